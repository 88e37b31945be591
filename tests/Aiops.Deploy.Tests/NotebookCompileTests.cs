namespace Aiops.Deploy.Tests;

/// <summary>Every code cell of every notebook compiles against the libraries as they are now.</summary>
public sealed class NotebookCompileTests
{
    public static TheoryData<string> Notebooks() => [.. NotebookCells.NotebookPaths()];

    [Fact]
    public void ThereIsAtLeastOneCSharpNotebook()
    {
        // Guards the theory below against silently checking nothing.
        Assert.NotEmpty(NotebookCells.NotebookPaths());
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void EveryCodeCellCompilesAgainstTheCurrentLibraries(string path)
    {
        var (kernel, cells) = NotebookCells.Read(path);
        Assert.Equal(".net-csharp", kernel);
        Assert.NotEmpty(cells);
        Assert.All(cells, c => Assert.True(c.Language is "csharp" or "C#", $"cell {c.Index} is in '{c.Language}'; only C# cells can be checked"));

        string directory = Path.GetDirectoryName(RepoFiles.PathOf(path))!;
        var prepared = cells.Select(c => NotebookCells.Prepare(c.Index, c.Source, directory)).ToList();
        var problems = prepared.SelectMany(c => c.Problems).ToList();
        var errors = NotebookCells.CompileErrors(prepared, Path.GetFileNameWithoutExtension(path));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public void ACellUsingAnApiThatDoesNotExistFailsTheCheck()
    {
        // The check must see library drift: a constructor the detector does not have.
        var cells = new[]
        {
            NotebookCells.Prepare(1, "using Aiops.Detection;\nvar d = new SeriesDetector(42, \"no such overload\", 3.5, true);", RepoFiles.PathOf("notebooks")),
        };

        Assert.NotEmpty(NotebookCells.CompileErrors(cells, "drift"));
    }

    [Fact]
    public void LaterCellsSeeTheDeclarationsOfEarlierOnes()
    {
        var cells = new[]
        {
            NotebookCells.Prepare(1, "static int Twice(int x) => 2 * x;\nvar seed = 21;", RepoFiles.PathOf("notebooks")),
            NotebookCells.Prepare(2, "Twice(seed)", RepoFiles.PathOf("notebooks")),
        };

        Assert.Empty(NotebookCells.CompileErrors(cells, "chain"));
    }

    [Theory]
    [InlineData("#!fsharp", "magic command")]
    [InlineData("#r \"nuget: MathNet.Numerics, 4.0.0\"", "not the version pinned")]
    [InlineData("#r \"nuget: Some.Unpinned.Package, 1.0.0\"", "not the version pinned")]
    [InlineData("#r \"../tests/Aiops.Deploy.Tests/bin/Debug/net10.0/Aiops.Deploy.Tests.dll\"", "not the build output")]
    public void DirectivesThatCannotWorkHereAreReported(string line, string expected)
    {
        var cell = NotebookCells.Prepare(1, line + "\nvar x = 1;", RepoFiles.PathOf("notebooks"));

        Assert.Contains(cell.Problems, p => p.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain("#", cell.Code, StringComparison.Ordinal); // directive lines are blanked
    }
}
