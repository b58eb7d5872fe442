using Kaizen.Portal.Secrets;

namespace Kaizen.Portal.Tests.Secrets;

public sealed class VariableRulesTests
{
    [Theory]
    [InlineData("AWS_ACCESS_KEY_ID")]
    [InlineData("_private")]
    [InlineData("a1")]
    [InlineData("KAIZENX")]
    public void Environment_variable_names_are_accepted(string name)
    {
        Assert.Null(VariableRules.NameError(name));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("1ABC", "not a valid name")]
    [InlineData("MY-KEY", "not a valid name")]
    [InlineData("MY KEY", "not a valid name")]
    [InlineData("CLÉ", "not a valid name")]
    [InlineData("KAIZEN_TOKEN", "reserved")]
    [InlineData("kaizen_token", "reserved")]
    public void Other_names_are_refused_with_the_rule(string name, string why)
    {
        var error = VariableRules.NameError(name);

        Assert.NotNull(error);
        Assert.Contains(why, error);
    }

    [Theory]
    [InlineData("secrets/deploy.pem", null)]
    [InlineData("key", null)]
    [InlineData("/etc/passwd", "not a relative path")]
    [InlineData("..\\x", "not a relative path")]
    [InlineData("C:/x", "not a relative path")]
    [InlineData("../outside", "'..' part")]
    [InlineData("a//b", "'..' part")]
    [InlineData("./a", "'..' part")]
    public void File_paths_stay_inside_the_workspace(string path, string? why)
    {
        var error = VariableRules.FilePathError(path);

        if (why is null) Assert.Null(error);
        else Assert.Contains(why, error);
    }

    [Fact]
    public void Values_are_limited_in_size_and_secrets_are_not_empty()
    {
        Assert.Null(VariableRules.ValueError(new string('x', VariableRules.MaxValueBytes), secret: true, asFile: false));
        Assert.Contains("64 KiB", VariableRules.ValueError(new string('x', VariableRules.MaxValueBytes + 1), secret: true, asFile: false));
        Assert.Contains("cannot be empty", VariableRules.ValueError("", secret: true, asFile: false));
        Assert.Null(VariableRules.ValueError("", secret: false, asFile: false));
        Assert.Contains("NUL", VariableRules.ValueError("a\0b", secret: true, asFile: false));
        Assert.Null(VariableRules.ValueError("a\0b", secret: true, asFile: true));
    }
}
