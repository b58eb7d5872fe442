using System.Text;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Debug;

public sealed class HostTerminalTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly TerminalScreen _screen = new();
    private HostTerminal _terminal = null!;
    private Task _reading = Task.CompletedTask;

    public Task InitializeAsync()
    {
        var rc = _dir.Combine("rc");
        File.WriteAllText(rc, "PS1='test$ '\n");
        _terminal = HostTerminal.Start(_dir.Path, new Dictionary<string, string> { ["GREETING"] = "hello" }, rc, new TerminalSize(80, 24));
        _reading = _screen.Follow(_terminal);
        return _screen.WaitForAsync("test$ ");
    }

    public async Task DisposeAsync()
    {
        await _terminal.DisposeAsync();
        await _reading.WaitAsync(TerminalScreen.Patience);
        _dir.Dispose();
    }

    private ValueTask TypeAsync(string text) => _terminal.WriteAsync(Encoding.UTF8.GetBytes(text), CancellationToken.None);

    [Fact]
    public async Task Typed_input_is_echoed_and_runs_as_a_command()
    {
        await TypeAsync("echo $((6*7)) $GREETING $TERM\r");

        var echoed = await _screen.WaitForAsync("echo $((6*7)) $GREETING $TERM");
        await _screen.WaitForAsync("42 hello xterm-256color", echoed);
    }

    [Fact]
    public async Task Stty_size_follows_a_resize()
    {
        await TypeAsync("stty size\r");
        var first = await _screen.WaitForAsync("24 80");

        await _terminal.ResizeAsync(new TerminalSize(132, 43), CancellationToken.None);
        await TypeAsync("stty size\r");

        await _screen.WaitForAsync("43 132", first);
    }

    [Fact]
    public async Task Ctrl_c_interrupts_the_foreground_program_and_the_shell_lives_on()
    {
        await TypeAsync("echo started-$((1+2)); sleep 631; echo after-sleep\r");
        var typed = await _screen.WaitForAsync("started-3");
        await ForegroundProcess.WaitAsync(["sleep", "631"]);
        await TypeAsync("\u0003");
        await TypeAsync("echo still-$((1+1))\r");

        var after = await _screen.WaitForAsync("still-2", typed + 20);
        Assert.DoesNotContain("after-sleep\r\n", _screen.Text[typed..after]);
        Assert.False(_terminal.Exited.IsCompleted);
    }

    [Fact]
    public async Task Colours_pass_through_untouched()
    {
        await TypeAsync("printf '\\e[31m%s\\e[0m\\n' red\r");

        await _screen.WaitForAsync("\u001b[31mred\u001b[0m");
    }

    [Fact]
    public async Task Exit_ends_the_shell_and_the_output()
    {
        await TypeAsync("exit 3\r");

        Assert.Equal(3, await _terminal.Exited.WaitAsync(TerminalScreen.Patience));
        await _reading.WaitAsync(TerminalScreen.Patience);
    }

    [Fact]
    public async Task Kill_ends_the_shell_and_its_background_jobs()
    {
        var marker = _dir.Combine("alive");
        await TypeAsync($"(trap '' HUP; while :; do touch {marker}; sleep 0.1; done) &\r");
        await TypeAsync("echo started\r");
        await _screen.WaitForAsync("started\r\n");

        await _terminal.KillAsync();
        await _reading.WaitAsync(TerminalScreen.Patience);
        File.Delete(marker);
        await Task.Delay(500);

        Assert.False(File.Exists(marker));
    }
}
