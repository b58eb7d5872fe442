using Kaizen.Runner.Execution;

namespace Kaizen.Runner.Tests.Execution;

public sealed class BashSplitterTests
{
    // Each case: a script and its top-level commands, separated by "|||" (a sequence no case uses otherwise).
    public static TheoryData<string, string, string> Cases => new()
    {
        { "simple lines", "echo a\necho b\n", "echo a|||echo b" },
        { "blank lines, comments and a shebang", "#!/bin/bash\n\n# say hi\necho hi # trailing\n\n  # indented\necho bye", "echo hi # trailing|||echo bye" },
        { "several commands on one line stay one", "a=1; echo $a; cd /tmp\nls", "a=1; echo $a; cd /tmp|||ls" },
        { "single quotes across lines", "echo 'one\ntwo'\necho three", "echo 'one\ntwo'|||echo three" },
        { "double quotes with escapes and substitutions", "echo \"a \\\" $(echo \")\")\nb\"\nnext", "echo \"a \\\" $(echo \")\")\nb\"|||next" },
        { "backslash continuation", "docker run \\\n  --rm \\\n  image\necho done", "docker run \\\n  --rm \\\n  image|||echo done" },
        { "&& || and | at line ends", "make &&\n  make test ||\n  echo failed |\n  tee log\nnext", "make &&\n  make test ||\n  echo failed |\n  tee log|||next" },
        { "heredoc", "cat <<EOF\nline $x\nEOF\necho after", "cat <<EOF\nline $x\nEOF|||echo after" },
        { "quoted heredoc with tabs stripped", "cat <<-'END' > f\n\tif then fi\n\tEND\nnext", "cat <<-'END' > f\n\tif then fi\n\tEND|||next" },
        { "two heredocs on one line", "paste <(cat <<A\n1\nA\n) - <<B\n2\nB\nnext", "paste <(cat <<A\n1\nA\n) - <<B\n2\nB|||next" },
        { "here-string is not a heredoc", "grep x <<< \"$v\"\nnext", "grep x <<< \"$v\"|||next" },
        { "if elif else fi", "if [ -f x ]; then\n  echo x\nelif true\nthen :\nelse\n  echo no\nfi\nnext", "if [ -f x ]; then\n  echo x\nelif true\nthen :\nelse\n  echo no\nfi|||next" },
        { "nested loops", "for f in *.txt\ndo\n  while read l; do\n    echo $l\n  done < $f\ndone\nnext", "for f in *.txt\ndo\n  while read l; do\n    echo $l\n  done < $f\ndone|||next" },
        { "until loop", "until false\ndo break\ndone\nx", "until false\ndo break\ndone|||x" },
        { "case with patterns, parens and ;;", "case $1 in\n  (a|b) echo ab ;;\n  c) echo c\n     ;&\n  *) if true; then echo d; fi ;;\nesac\nnext", "case $1 in\n  (a|b) echo ab ;;\n  c) echo c\n     ;&\n  *) if true; then echo d; fi ;;\nesac|||next" },
        { "case inside a command substitution", "x=$(case a in a) echo 1;; esac)\necho $x", "x=$(case a in a) echo 1;; esac)|||echo $x" },
        { "brace group and subshell", "{\n  echo a\n} > log\n(\n  cd /tmp\n)\nnext", "{\n  echo a\n} > log|||(\n  cd /tmp\n)|||next" },
        { "function with body on the next line", "greet()\n{\n  echo hi\n}\nfunction bye {\n  echo bye\n}\ngreet", "greet()\n{\n  echo hi\n}|||function bye {\n  echo bye\n}|||greet" },
        { "keywords as arguments are words", "echo if then done fi\necho {\nnext", "echo if then done fi|||echo {|||next" },
        { "arithmetic with << and parentheses", "x=$(( (1 << 2) + 3 ))\n(( x > 2 )) && echo big\nnext", "x=$(( (1 << 2) + 3 ))|||(( x > 2 )) && echo big|||next" },
        { "parameter expansion with # and }", "echo ${x#*/} ${y:-\"a}b\"}\nnext", "echo ${x#*/} ${y:-\"a}b\"}|||next" },
        { "double brackets across lines", "[[ -n $a &&\n   $b == c ]]\nnext", "[[ -n $a &&\n   $b == c ]]|||next" },
        { "backquotes", "x=`echo \\`date\\``\nnext", "x=`echo \\`date\\``|||next" },
        { "ANSI-C quotes with an escaped quote", "echo $'it\\'s\\n'\nnext", "echo $'it\\'s\\n'|||next" },
        { "a # inside a word is not a comment", "echo a#b\nnext", "echo a#b|||next" },
        { "background command", "sleep 1 &\nwait", "sleep 1 &|||wait" },
        { "CRLF line ends", "echo a\r\necho b\r\n", "echo a|||echo b" },
        { "unbalanced single quote runs to the end", "echo ok\necho 'oops\necho lost", "echo ok|||echo 'oops\necho lost" },
        { "unbalanced double quote runs to the end", "echo \"oops\nmore", "echo \"oops\nmore" },
        { "missing fi", "if true; then\n echo x\n", "if true; then\n echo x" },
        { "unterminated heredoc", "cat <<EOF\nbody", "cat <<EOF\nbody" },
        { "stray closers do not break the rest", "fi\n)\n}\necho after", "fi|||)|||}|||echo after" },
        { "only comments", "# nothing\n   \n", "" },
        { "empty", "", "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Splits_scripts_into_top_level_commands(string description, string script, string expected)
    {
        // Arrange
        var want = expected.Length == 0 ? [] : expected.Split("|||");

        // Act
        var spans = BashSplitter.Split(script);

        // Assert
        Assert.True(want.SequenceEqual(spans.Select(s => s.TextOf(script))),
            $"{description}: got [{string.Join(" ||| ", spans.Select(s => s.TextOf(script)))}]");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Never_throws_on_random_bytes_and_returns_spans_inside_the_text(int seed)
    {
        // Arrange: random bytes, heavy on bash's special characters.
        var random = new Random(seed);
        const string alphabet = "'\"`$(){}[]<>|&;#\\\n \t-ifthenfidoecase\0\u00ff\ud83d";
        for (var round = 0; round < 300; round++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 400)).Select(_ =>
                random.Next(4) == 0 ? (char)random.Next(0, 0xffff) : alphabet[random.Next(alphabet.Length)]).ToArray());

            // Act
            var spans = BashSplitter.Split(text);

            // Assert
            var last = -1;
            foreach (var span in spans)
            {
                Assert.True(span.Start > last && span.Length > 0 && span.Start + span.Length <= text.Length, $"bad span {span} in {text.Length} chars");
                last = span.Start + span.Length - 1;
            }
        }
    }

    [Fact]
    public void Deep_nesting_is_handled_without_recursion()
    {
        // Arrange
        var script = new string('(', 200_000) + "\necho x";

        // Act
        var spans = BashSplitter.Split(script);

        // Assert
        Assert.Single(spans);
    }
}
