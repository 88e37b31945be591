using YamlDotNet.RepresentationModel;

namespace Aiops.Deploy.Tests;

/// <summary>Locates committed files from the test's output directory (the repository root holds Aiops.sln).</summary>
internal static class RepoFiles
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aiops.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Aiops.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Text(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>Every document of a YAML file (Kubernetes files may hold several).</summary>
    public static IReadOnlyList<YamlMappingNode> Yaml(string relative)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(Text(relative));
        stream.Load(reader);
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    /// <summary>The only document of a YAML file.</summary>
    public static YamlMappingNode YamlDocument(string relative) => Assert.Single(Yaml(relative));
}

/// <summary>Terse navigation over YamlDotNet's representation model; a missing key fails the test with its path.</summary>
internal static class YamlNav
{
    public static YamlNode At(this YamlNode node, params string[] path)
    {
        var current = node;
        foreach (string key in path)
        {
            var map = Assert.IsType<YamlMappingNode>(current);
            Assert.True(map.Children.TryGetValue(new YamlScalarNode(key), out var next), $"missing key '{key}' in path {string.Join('.', path)}");
            current = next;
        }

        return current;
    }

    public static string Str(this YamlNode node, params string[] path) =>
        Assert.IsType<YamlScalarNode>(node.At(path)).Value ?? "";

    public static YamlSequenceNode Seq(this YamlNode node, params string[] path) => Assert.IsType<YamlSequenceNode>(node.At(path));

    public static YamlMappingNode Map(this YamlNode node, params string[] path) => Assert.IsType<YamlMappingNode>(node.At(path));

    public static IEnumerable<KeyValuePair<string, string>> ScalarPairs(this YamlMappingNode map) =>
        map.Children.Select(c => new KeyValuePair<string, string>(((YamlScalarNode)c.Key).Value!, ((YamlScalarNode)c.Value).Value ?? ""));
}
