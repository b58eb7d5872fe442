using System.Text;
using Kaizen.Runner.Debug;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Tests.Debug;

public sealed class TerminalJobOutputTests : IAsyncLifetime
{
    private readonly FakeTerminalPortal _portal = new();
    private readonly HttpClient _http = new();
    private TerminalSession _session = null!;

    public async Task InitializeAsync()
    {
        _session = new TerminalSession(new TerminalConnection(_http, _portal.Url, () => FakeTerminalPortal.Token, 1),
            DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());
        Assert.True(await _session.ConnectAsync(CancellationToken.None));
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        await _portal.DisposeAsync();
        _http.Dispose();
    }

    [Fact]
    public async Task Setup_output_gets_carriage_returns_and_commands_show_with_their_exit()
    {
        var job = new JobAssignment(1, 2, "acme", "lint", "", "main", new string('a', 40),
            [new JobCommand(0, CommandPhase.Setup, "make deps\nmake more")], new Dictionary<string, string>(), 60);
        IJobOutput output = new TerminalJobOutput(_session, job);

        output.CommandStarted(0, 0);
        await output.WriteAsync(0, Encoding.UTF8.GetBytes("one\ntwo\r\nthree"), CancellationToken.None);
        output.CommandFinished(0, 2, 1234, 0);
        await _session.CloseAsync();

        var terminal = await _portal.SessionAsync(1);
        await terminal.Closed.WaitAsync(TerminalScreen.Patience);
        Assert.Equal("\u001b[1m$ make deps …\u001b[0m\r\none\r\ntwo\r\nthree\r\n\u001b[2mexit 2 · 1.2 s\u001b[0m\r\n", terminal.Screen.Text);
    }

    [Fact]
    public async Task Large_output_arrives_whole_in_messages_of_at_most_32_KB()
    {
        var data = Enumerable.Range(0, 200_000).Select(i => (byte)('a' + (i % 26))).ToArray();

        for (var i = 0; i < data.Length; i += 7000)
        {
            await _session.WriteAsync(data.AsMemory(i, Math.Min(7000, data.Length - i)), CancellationToken.None);
        }

        await _session.CloseAsync();
        var terminal = await _portal.SessionAsync(1);
        await terminal.Closed.WaitAsync(TerminalScreen.Patience);
        Assert.Equal(Encoding.ASCII.GetString(data), terminal.Screen.Text);
    }
}
