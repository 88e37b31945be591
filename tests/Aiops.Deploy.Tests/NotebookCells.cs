using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Aiops.Deploy.Tests;

/// <summary>One C# code cell of a notebook, with its kernel directives taken out.</summary>
/// <param name="Index">1-based position among the notebook's cells.</param>
/// <param name="Code">The C# left for the compiler (directive lines blanked, so line numbers hold).</param>
/// <param name="Problems">Directives that cannot work against this repository (unknown magic, unpinned package, missing assembly).</param>
internal sealed record NotebookCell(int Index, string Code, IReadOnlyList<string> Problems);

/// <summary>
/// Reads .NET Interactive notebooks and compiles their C# cells the way the kernel runs them: as
/// a chain of script submissions (<see cref="SourceCodeKind.Script"/>), each seeing the
/// declarations of the ones before, with the kernel's default usings. Kernel directives are
/// handled explicitly rather than left to the compiler: <c>#!csharp</c>/<c>#!c#</c>/<c>#!time</c>
/// are dropped, any other <c>#!</c> magic is a problem; <c>#r "nuget: Name, Version"</c> must name
/// a package pinned at that version in <c>Directory.Packages.props</c>; <c>#r "path.dll"</c> must
/// point into <c>src/&lt;Project&gt;/bin/</c> of a project of this repository, and its assembly is
/// taken from the test's own (current) build.
/// </summary>
internal static partial class NotebookCells
{
    /// <summary>The usings the .NET Interactive C# kernel adds to every submission.</summary>
    private static readonly string[] KernelUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Text", "System.Threading.Tasks", "System.Net.Http"];

    /// <summary>
    /// Stand-ins for the kernel helpers notebooks may call, with the kernel's shapes
    /// (<c>display(value, params mimeTypes)</c>, <c>HTML(text)</c>); Microsoft.DotNet.Interactive is
    /// not a package of this repository, and these are the only two the notebooks are allowed.
    /// </summary>
    internal const string KernelPrelude = """
        static object display(object value, params string[] mimeTypes) => value;
        static string HTML(string content) => content;
        """;

    private static readonly CSharpParseOptions ScriptParse = new(LanguageVersion.Latest, kind: SourceCodeKind.Script);

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(LoadReferences);

    [GeneratedRegex("""^\s*#r\s+"nuget:\s*(?<name>[^,"\s]+)\s*,\s*(?<version>[^"\s]+)\s*"\s*$""")]
    private static partial Regex NugetReference();

    [GeneratedRegex("""^\s*#r\s+"(?<path>[^"]+)"\s*$""")]
    private static partial Regex PathReference();

    public static IReadOnlyList<string> NotebookPaths() =>
        [.. Directory.EnumerateFiles(RepoFiles.PathOf("notebooks"), "*.ipynb", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(RepoFiles.Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    /// <summary>The kernel name of the notebook and its code cells (all of them, whatever their language).</summary>
    public static (string Kernel, IReadOnlyList<(int Index, string Language, string Source)> Cells) Read(string relativePath)
    {
        using var doc = JsonDocument.Parse(RepoFiles.Text(relativePath));
        var root = doc.RootElement;
        string kernel = root.GetProperty("metadata").GetProperty("kernelspec").GetProperty("name").GetString() ?? "";
        var cells = new List<(int, string, string)>();
        int index = 0;
        foreach (var cell in root.GetProperty("cells").EnumerateArray())
        {
            index++;
            if (cell.GetProperty("cell_type").GetString() != "code")
            {
                continue;
            }

            var source = cell.GetProperty("source");
            string text = source.ValueKind == JsonValueKind.Array
                ? string.Concat(source.EnumerateArray().Select(s => s.GetString()))
                : source.GetString() ?? "";
            string language = "csharp";
            if (cell.TryGetProperty("metadata", out var meta))
            {
                if (meta.TryGetProperty("dotnet_interactive", out var di) && di.TryGetProperty("language", out var l))
                {
                    language = l.GetString() ?? language;
                }
                else if (meta.TryGetProperty("polyglot_notebook", out var pn) && pn.TryGetProperty("kernelName", out var k))
                {
                    language = k.GetString() ?? language;
                }
            }

            cells.Add((index, language, text));
        }

        return (kernel, cells);
    }

    /// <summary>Takes the kernel directives out of one cell's source.</summary>
    public static NotebookCell Prepare(int index, string source, string notebookDirectory)
    {
        var problems = new List<string>();
        var lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                if (line is not ("#!csharp" or "#!c#" or "#!time"))
                {
                    problems.Add($"cell {index}: magic command '{line}' is not supported by the compile check");
                }

                lines[i] = "";
                continue;
            }

            if (!line.StartsWith("#r ", StringComparison.Ordinal))
            {
                continue;
            }

            lines[i] = "";
            var nuget = NugetReference().Match(line);
            if (nuget.Success)
            {
                string name = nuget.Groups["name"].Value;
                string version = nuget.Groups["version"].Value;
                if (PinnedVersion(name) != version)
                {
                    problems.Add($"cell {index}: package {name} {version} is not the version pinned in Directory.Packages.props ({PinnedVersion(name) ?? "none"})");
                }

                continue;
            }

            var path = PathReference().Match(line);
            if (!path.Success)
            {
                problems.Add($"cell {index}: cannot read the reference '{line}'");
                continue;
            }

            string full = Path.GetFullPath(Path.Combine(notebookDirectory, path.Groups["path"].Value));
            string relative = Path.GetRelativePath(RepoFiles.Root, full).Replace('\\', '/');
            var parts = relative.Split('/');
            if (parts.Length < 4 || parts[0] != "src" || parts[2] != "bin" || !File.Exists(RepoFiles.PathOf($"src/{parts[1]}/{parts[1]}.csproj")))
            {
                problems.Add($"cell {index}: '{relative}' is not the build output of a project under src/");
                continue;
            }

            string assembly = Path.GetFileNameWithoutExtension(full);
            if (!References.Value.Any(r => Path.GetFileNameWithoutExtension(r.Display) == assembly))
            {
                problems.Add($"cell {index}: assembly {assembly} is not part of the current build");
            }
        }

        return new NotebookCell(index, string.Join('\n', lines), problems);
    }

    /// <summary>Compiles the cells as chained submissions; returns the errors, each prefixed with its cell.</summary>
    public static IReadOnlyList<string> CompileErrors(IReadOnlyList<NotebookCell> cells, string name)
    {
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, usings: KernelUsings);
        var previous = CSharpCompilation.CreateScriptCompilation(
            name + ".prelude", CSharpSyntaxTree.ParseText(KernelPrelude, ScriptParse), References.Value, options);
        var errors = new List<string>();
        errors.AddRange(previous.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => "prelude: " + d));
        foreach (var cell in cells)
        {
            var tree = CSharpSyntaxTree.ParseText(cell.Code, ScriptParse, path: $"{name}#cell{cell.Index}");
            var compilation = CSharpCompilation.CreateScriptCompilation(
                $"{name}.cell{cell.Index}", tree, References.Value, options, previous, returnType: typeof(object));
            errors.AddRange(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => $"cell {cell.Index}: {d}"));
            previous = compilation;
        }

        return errors;
    }

    private static string? PinnedVersion(string package)
    {
        var props = XDocument.Parse(RepoFiles.Text("Directory.Packages.props"));
        return props.Descendants("PackageVersion")
            .FirstOrDefault(e => string.Equals((string?)e.Attribute("Include"), package, StringComparison.OrdinalIgnoreCase))
            ?.Attribute("Version")?.Value;
    }

    /// <summary>
    /// Every managed assembly the test process can load: the framework (trusted platform
    /// assemblies) and this test's output folder, which holds the current build of every Aiops
    /// library and their packages.
    /// </summary>
    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        // Make sure the libraries the notebooks use are in the output (and loaded) before listing.
        _ = typeof(Aiops.Detection.SeriesDetector).Assembly;
        _ = typeof(Aiops.Core.MetricPoint).Assembly;
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string tpa = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "";
        foreach (string path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                     .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll")))
        {
            string file = Path.GetFileName(path);
            if (paths.ContainsKey(file))
            {
                continue;
            }

            try
            {
                _ = AssemblyName.GetAssemblyName(path);
                paths[file] = path;
            }
            catch (BadImageFormatException)
            {
                // A native library: nothing to reference.
            }
        }

        return [.. paths.Values.Select(p => MetadataReference.CreateFromFile(p))];
    }
}
