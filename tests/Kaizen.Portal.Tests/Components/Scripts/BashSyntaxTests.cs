using Kaizen.Portal.Components.Scripts;

namespace Kaizen.Portal.Tests.Components.Scripts;

public sealed class BashSyntaxTests
{
    private static (BashTokenKind Kind, string Text)[] Colored(string source) =>
        BashSyntax.Tokenize(source).Where(t => t.Kind != BashTokenKind.Text).Select(t => (t.Kind, t.Text)).ToArray();

    [Theory]
    [InlineData("echo hi # greet", BashTokenKind.Comment, "# greet")]
    [InlineData("echo 'single $NOT'", BashTokenKind.String, "'single $NOT'")]
    [InlineData("aws s3 sync . \"s3://$BUCKET/x\"", BashTokenKind.Variable, "$BUCKET")]
    [InlineData("echo ${HOME:-/root}", BashTokenKind.Variable, "${HOME:-/root}")]
    [InlineData("echo $1 $@ $?", BashTokenKind.Variable, "$?")]
    [InlineData("if true; then echo; fi", BashTokenKind.Keyword, "fi")]
    [InlineData("set -euo pipefail", BashTokenKind.Builtin, "set")]
    [InlineData("curl -s x | jq .", BashTokenKind.Operator, "|")]
    [InlineData("REGION=eu-west-1 aws deploy", BashTokenKind.Variable, "REGION")]
    public void Each_kind_of_bash_is_recognised(string source, BashTokenKind kind, string text) =>
        Assert.Contains((kind, text), Colored(source));

    [Fact]
    public void Keywords_and_builtins_count_only_where_a_command_starts()
    {
        var tokens = Colored("grep -e if -e echo file && echo done");

        Assert.DoesNotContain((BashTokenKind.Keyword, "if"), tokens);
        Assert.Equal([(BashTokenKind.Operator, "&&"), (BashTokenKind.Builtin, "echo")], tokens);
    }

    [Fact]
    public void A_here_document_is_one_string_up_to_its_delimiter_and_code_resumes_after_it()
    {
        var tokens = Colored("cat <<'EOF' > out\nif not code $X\nEOF\necho after\n");

        Assert.Contains((BashTokenKind.Heredoc, "if not code $X\nEOF\n"), tokens);
        Assert.Contains((BashTokenKind.Builtin, "echo"), tokens);
        Assert.DoesNotContain((BashTokenKind.Keyword, "if"), tokens);
    }

    [Theory]
    [InlineData("echo \"unterminated $X\nmore")]
    [InlineData("echo 'unterminated")]
    [InlineData("cat <<EOF\nno end")]
    [InlineData("echo ${unclosed")]
    [InlineData("\\")]
    [InlineData("$")]
    [InlineData("<<")]
    [InlineData("\u0000\u0001binary\u00ff\ufffd bytes")]
    [InlineData("a\r\nb\r\n")]
    public void Any_text_comes_back_exactly_from_its_tokens(string source) =>
        Assert.Equal(source, string.Concat(BashSyntax.Tokenize(source).Select(t => t.Text)));

    [Fact]
    public void Every_script_round_trips_even_a_long_mixed_one()
    {
        var source = string.Join('\n', Enumerable.Range(0, 200).Select(i =>
            $"for f in *.txt; do echo \"$f {i}\" | tr a-z A-Z >> out.log; done # {i} 'x\" ${{V{i}}} <<<here"));

        Assert.Equal(source, string.Concat(BashSyntax.Tokenize(source).Select(t => t.Text)));
    }
}
