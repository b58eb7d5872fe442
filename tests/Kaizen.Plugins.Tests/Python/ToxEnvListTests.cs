using Kaizen.Plugins.Python;

namespace Kaizen.Plugins.Tests.Python;

public sealed class ToxEnvListTests
{
    [Theory]
    [InlineData("py27, py36", "py27|py36")]
    [InlineData("py27,py36,flake8", "py27|py36|flake8")]
    [InlineData("py{27,36}", "py27|py36")]
    [InlineData("py{27,36}-django{18,19}", "py27-django18|py27-django19|py36-django18|py36-django19")]
    [InlineData("py3{8-10}, lint", "py38|py39|py310|lint")]
    [InlineData("\npy27\npy36\n", "py27|py36")]
    [InlineData("\n  py27,\n  py36,\n  # a comment line\n  docs", "py27|py36|docs")]
    [InlineData("py27, py27, py{27,36}", "py27|py36")]
    [InlineData("", "")]
    [InlineData("py{27,36", "py27,36")]
    public void Envlists_are_split_and_braces_expanded_like_tox(string envlist, string expected)
    {
        var envs = ToxEnvListTests.Parse(envlist);

        Assert.Equal(expected.Length == 0 ? [] : expected.Split('|'), envs);
    }

    [Fact]
    public void A_multi_line_envlist_in_tox_ini_is_read_whole_and_inline_comments_dropped()
    {
        var config = ToxConfig.Parse("""
            [tox]
            envlist =
                py{27,36}  # both Pythons
                flake8
            skipsdist = true

            [testenv]
            commands = pytest {posargs}
            """);

        Assert.Equal(["py27", "py36", "flake8"], config.EnvList);
        Assert.True(config.PassesPosargsToPytest("py27"));
    }

    [Fact]
    public void Envlist_references_to_other_sections_are_resolved()
    {
        var config = ToxConfig.Parse("""
            [vars]
            pythons = py27, py36
            [tox]
            envlist = {[vars]pythons}, lint
            """);

        Assert.Equal(["py27", "py36", "lint"], config.EnvList);
    }

    [Fact]
    public void The_tox_4_env_list_key_and_pyproject_legacy_ini_are_understood()
    {
        var pyproject = "[tool.tox]\nlegacy_tox_ini = \"\"\"\n[tox]\nenvlist = py311\n\"\"\"\n";

        Assert.Equal(["a", "b"], ToxConfig.Parse("[tox]\nenv_list = a, b\n").EnvList);
        Assert.Equal(["py311"], ToxConfig.Parse(ToxConfig.LegacyIniOf(pyproject)!).EnvList);
    }

    [Fact]
    public void A_default_posargs_is_not_replaced_by_a_report_argument()
    {
        var config = ToxConfig.Parse("[testenv]\ncommands = pytest {posargs:tests}\n[testenv:other]\ncommands = python -m unittest {posargs}\n");

        Assert.False(config.PassesPosargsToPytest("py36"));
        Assert.False(config.PassesPosargsToPytest("other"));
    }

    [Fact]
    public void Garbage_is_read_without_throwing()
    {
        var config = ToxConfig.Parse("\u0000\u0001 = [[[\n  indented before any key\n[tox\nenvlist py27\n]]]\n= = =\n[tox]\nenvlist\n");

        Assert.Empty(config.EnvList);
    }

    private static IReadOnlyList<string> Parse(string envlist) => ToxConfig.ParseEnvList(envlist);
}
