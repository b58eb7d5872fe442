using Kaizen.Plugins.Python;
using Kaizen.Plugins.Tests.Support;

namespace Kaizen.Plugins.Tests.Python;

public sealed class PythonDetectionTests
{
    private readonly PythonPlugin _plugin = new();

    [Theory]
    [InlineData("tox.ini")]
    [InlineData("setup.py")]
    [InlineData("pyproject.toml")]
    [InlineData("requirements.txt")]
    [InlineData("requirements-dev.txt")]
    public void Each_marker_file_in_the_root_is_a_python_stack(string marker)
    {
        var stacks = _plugin.Detect(new MemoryRepository((marker, "\n"), ("README.md", "hi\n")));

        var stack = Assert.Single(stacks);
        Assert.Equal(("python", "python", ""), (stack.PluginId, stack.Stack, stack.Directory));
    }

    [Fact]
    public void A_project_in_a_sub_folder_is_found_there()
    {
        var stacks = _plugin.Detect(new MemoryRepository(
            ("backend/requirements.txt", "requests\n"), ("backend/test_app.py", "def test(): pass\n"), ("frontend/package.json", "{}")));

        var stack = Assert.Single(stacks);
        Assert.Equal("backend", stack.Directory);
        Assert.Equal("requirements.txt", stack.Fact("requirements"));
        Assert.Equal("false", stack.Fact("tox"));
    }

    [Fact]
    public void Dependency_and_hidden_folders_and_nested_files_of_a_project_are_not_projects()
    {
        var stacks = _plugin.Detect(new MemoryRepository(
            ("setup.py", "from setuptools import setup\n"),
            ("docs/requirements.txt", "sphinx\n"),
            ("node_modules/pkg/setup.py", ""),
            (".tox/py36/lib/site-packages/x/setup.py", ""),
            ("venv/lib/requirements.txt", "")));

        Assert.Equal([""], stacks.Select(s => s.Directory));
    }

    [Fact]
    public void Two_independent_projects_are_two_stacks()
    {
        var stacks = _plugin.Detect(new MemoryRepository(("services/a/tox.ini", "[tox]\nenvlist=py36\n"), ("services/b/setup.py", "")));

        Assert.Equal(["services/a", "services/b"], stacks.Select(s => s.Directory));
    }

    [Fact]
    public void Tox_environments_flake8_and_packaging_are_facts_and_in_the_summary()
    {
        var stacks = _plugin.Detect(new MemoryRepository(
            ("tox.ini", "[tox]\nenvlist = py{27,36}\n\n[flake8]\nmax-line-length = 100\n"),
            ("setup.py", "from setuptools import setup\nsetup(name='cli')\n")));

        var stack = Assert.Single(stacks);
        Assert.Equal("py27,py36", stack.Fact("toxenvs"));
        Assert.Equal("config", stack.Fact("flake8"));
        Assert.Equal("setup.py", stack.Fact("package"));
        Assert.Equal("Python: tox environments py27, py36; flake8; package from setup.py", stack.Summary);
    }

    [Fact]
    public void An_unreadable_tox_ini_is_detected_and_says_so()
    {
        var stacks = _plugin.Detect(new UnreadableRepository("tox.ini"));

        var stack = Assert.Single(stacks);
        Assert.Contains("tox.ini could not be read", stack.Summary);
        var plan = _plugin.PlanBuild(new(new UnreadableRepository("tox.ini"), stack));
        Assert.Equal(["tox"], plan.Jobs.Select(j => j.Name));
    }

    /// <summary>A repository whose one file exists but cannot be read as text (binary, or over the size limit).</summary>
    private sealed class UnreadableRepository(string path) : Kaizen.Sdk.IRepositoryView
    {
        public string CommitSha => new('0', 40);
        public IReadOnlyList<string> Files => [path];
        public bool Exists(string p) => p == path;
        public string? ReadText(string p) => null;
    }
}
