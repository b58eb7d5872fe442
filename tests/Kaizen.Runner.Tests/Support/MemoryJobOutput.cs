using System.Text;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Tests.Support;

/// <summary>An <see cref="IJobOutput"/> that keeps everything in memory for assertions.</summary>
public sealed class MemoryJobOutput : IJobOutput
{
    private readonly object _lock = new();
    private readonly Dictionary<int, MemoryStream> _logs = [];
    private readonly MemoryStream _jobLog = new();

    public List<CommandEvent> Events { get; } = [];

    /// <summary>Called after every write, e.g. to cancel once some text appeared.</summary>
    public Action<MemoryJobOutput>? OnWrite { get; set; }

    /// <summary>Called after every command event, on the thread that reported it (e.g. to stall the output reader).</summary>
    public Action<CommandEvent>? OnEvent { get; set; }

    public ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var target = commandIndex is { } i ? (_logs.TryGetValue(i, out var s) ? s : _logs[i] = new MemoryStream()) : _jobLog;
            target.Write(data.Span);
        }

        OnWrite?.Invoke(this);
        return ValueTask.CompletedTask;
    }

    public void CommandStarted(int index, long atUnixMs) => Add(new CommandEvent(index, CommandEventKind.Started, atUnixMs));

    public void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs) =>
        Add(new CommandEvent(index, CommandEventKind.Finished, atUnixMs, exitCode, durationMs));

    public void CommandSkipped(int index, long atUnixMs) => Add(new CommandEvent(index, CommandEventKind.Skipped, atUnixMs));

    public string Log(int? commandIndex)
    {
        lock (_lock)
        {
            var stream = commandIndex is { } i ? (_logs.TryGetValue(i, out var s) ? s : null) : _jobLog;
            return stream is null ? "" : Encoding.UTF8.GetString(stream.ToArray());
        }
    }

    /// <summary>Waits (up to 30 s) until command <paramref name="commandIndex"/> has printed <paramref name="text"/>.</summary>
    public async Task WaitForAsync(int commandIndex, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!Log(commandIndex).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Command {commandIndex} did not print '{text}'. The job's log: {Log(null)}");
            await Task.Delay(20);
        }
    }

    /// <summary>Each command's last event kind and exit code, e.g. "0:Finished:0".</summary>
    public IReadOnlyList<string> Summary()
    {
        lock (_lock)
        {
            return [.. Events.GroupBy(e => e.Index).OrderBy(g => g.Key).Select(g => g.Last()).Select(e => $"{e.Index}:{e.Kind}{(e.ExitCode is { } c ? $":{c}" : "")}")];
        }
    }

    private void Add(CommandEvent e)
    {
        lock (_lock)
        {
            Events.Add(e);
        }

        OnEvent?.Invoke(e);
    }
}

/// <summary>A clock that stands still unless moved.</summary>
public sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
