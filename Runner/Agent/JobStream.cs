using System.Net;
using System.Text;
using System.Threading.Channels;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Microsoft.Extensions.Logging;

namespace Kaizen.Runner.Agent;

/// <summary>
/// Streams a job's output and command events to the portal as ordered, numbered batches. One batch is in flight at a
/// time and is retried with the same sequence number until the portal has it, so retries never duplicate lines.
/// Whatever accumulates while a batch is in flight goes in the next one; past a buffer limit writers wait
/// (back-pressure reaches the job's processes through their output pipe).
/// </summary>
public sealed class JobStream : IJobOutput
{
    private const int MaxBatchBytes = 1 << 20;
    private const long MaxBufferedBytes = 8L << 20;

    private readonly PortalClient _client;
    private readonly long _jobId;
    private readonly long _maxLogBytes;
    private readonly Action _onGone;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly object _lock = new();
    private readonly List<LogChunk> _chunks = [];
    private readonly List<CommandEvent> _events = [];
    private readonly Task _uploader;
    private MemoryStream? _current;
    private int? _currentIndex;
    private long _buffered;
    private long _total;
    private bool _truncated;
    private bool _gone;
    private bool _completing;
    private TaskCompletionSource? _space;
    private long _seq;

    public JobStream(PortalClient client, long jobId, long maxLogBytes, Action onGone, ILogger logger, CancellationToken stopping)
    {
        _client = client;
        _jobId = jobId;
        _maxLogBytes = maxLogBytes;
        _onGone = onGone;
        _logger = logger;
        _stopping = stopping;
        _uploader = Task.Run(UploadLoopAsync, CancellationToken.None);
    }

    /// <summary>True when the portal no longer holds this job for us (canceled elsewhere, or failed as lost).</summary>
    public bool Gone => Volatile.Read(ref _gone);

    public async ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (data.IsEmpty) return;
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_buffered < MaxBufferedBytes || _gone)
                {
                    Append(commandIndex, data.Span);
                    break;
                }
                wait = (_space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await wait.WaitAsync(cancellationToken);
        }
        _wake.Writer.TryWrite(true);
    }

    /// <summary>Job-level text such as runner notes (not part of any command).</summary>
    public ValueTask NoteAsync(string text, CancellationToken cancellationToken) =>
        WriteAsync(null, Encoding.UTF8.GetBytes(text), cancellationToken);

    public void CommandStarted(int index, long atUnixMs) => AddEvent(new CommandEvent(index, CommandEventKind.Started, atUnixMs));

    public void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs) =>
        AddEvent(new CommandEvent(index, CommandEventKind.Finished, atUnixMs, exitCode, durationMs));

    public void CommandSkipped(int index, long atUnixMs) => AddEvent(new CommandEvent(index, CommandEventKind.Skipped, atUnixMs));

    /// <summary>Sends everything still buffered and returns the last sequence number the portal has.</summary>
    public async Task<long> CompleteAsync()
    {
        lock (_lock) _completing = true;
        _wake.Writer.TryWrite(true);
        await _uploader;
        return _seq;
    }

    private void AddEvent(CommandEvent e)
    {
        lock (_lock)
        {
            if (_gone) return;
            _events.Add(e);
        }
        _wake.Writer.TryWrite(true);
    }

    private void Append(int? index, ReadOnlySpan<byte> data)
    {
        if (_gone) return;
        if (_total + data.Length > _maxLogBytes)
        {
            if (_truncated) return;
            _truncated = true;
            data = Encoding.UTF8.GetBytes(
                $"\n[kaizen] The log reached its limit of {_maxLogBytes:N0} bytes; further output of this job is not kept.\n");
        }
        if (_current is not null && _currentIndex != index) Seal();
        _current ??= new MemoryStream();
        _currentIndex = index;
        _current.Write(data);
        _buffered += data.Length;
        _total += data.Length;
        if (_current.Length >= MaxBatchBytes) Seal();
    }

    private void Seal()
    {
        if (_current is null) return;
        _chunks.Add(new LogChunk(_currentIndex, _current.ToArray()));
        _current = null;
    }

    private (StreamBatch? Batch, long Bytes, bool Done) Take()
    {
        lock (_lock)
        {
            Seal();
            if (_chunks.Count == 0 && _events.Count == 0) return (null, 0, _completing || _gone);
            var take = new List<LogChunk>();
            long bytes = 0;
            while (_chunks.Count > 0 && (take.Count == 0 || bytes + _chunks[0].Data.Length <= MaxBatchBytes))
            {
                bytes += _chunks[0].Data.Length;
                take.Add(_chunks[0]);
                _chunks.RemoveAt(0);
            }
            var events = _events.ToList();
            _events.Clear();
            return (new StreamBatch(take, events), bytes, false);
        }
    }

    private async Task UploadLoopAsync()
    {
        try
        {
            while (true)
            {
                var (batch, bytes, done) = Take();
                if (batch is null)
                {
                    if (done) return;
                    await _wake.Reader.ReadAsync(_stopping);
                    continue;
                }
                var seq = _seq + 1;
                if (await SendWithRetryAsync(seq, batch)) _seq = seq;
                lock (_lock)
                {
                    _buffered -= bytes;
                    if (_buffered < MaxBufferedBytes || _gone)
                    {
                        _space?.TrySetResult();
                        _space = null;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_lock)
            {
                _space?.TrySetResult();
                _space = null;
            }
        }
    }

    /// <summary>
    /// Sends one batch until the portal has it. Connection errors, 5xx and 507 (the portal's disk is full) are waited out
    /// with backoff, the batch and everything after it kept here: when the portal takes writes again the log continues
    /// where it stopped, in order and without duplicates (the sequence number makes a resend idempotent).
    /// </summary>
    private async Task<bool> SendWithRetryAsync(long seq, StreamBatch batch)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var failures = 0;
        while (true)
        {
            try
            {
                await _client.StreamAsync(_jobId, seq, batch, _stopping);
                if (failures > 0)
                    _logger.LogInformation("Output of job {JobId} reaches the portal again (after {Failures} failed attempts)", _jobId, failures);
                return true;
            }
            // Gone: the job ended elsewhere. Forbidden or unauthorized: the portal no longer takes this claim (a revoked
            // runner, a lease it does not know); retrying the same batch cannot change that.
            catch (PortalStatusException ex) when (ex.Status is HttpStatusCode.Gone or HttpStatusCode.NotFound or HttpStatusCode.Forbidden
                                                       || ex.Revoked)
            {
                lock (_lock)
                {
                    _gone = true;
                    _chunks.Clear();
                    _events.Clear();
                }
                _onGone();
                return false;
            }
            catch (Exception ex) when (ex is HttpRequestException or PortalStatusException or TaskCanceledException && !_stopping.IsCancellationRequested)
            {
                // Once per outage: a full disk can last minutes, and a warning every few seconds would bury the rest.
                if (++failures == 1)
                {
                    if (ex is PortalStatusException { Status: HttpStatusCode.InsufficientStorage })
                        _logger.LogWarning("The portal's disk is full: output of job {JobId} is kept here and sent again until the portal has room", _jobId);
                    else
                        _logger.LogWarning("Uploading output of job {JobId} failed, retrying with backoff: {Error}", _jobId, ex.Message);
                }
                else
                {
                    _logger.LogDebug("Uploading output of job {JobId} failed again ({Failures}), retrying in {Delay}: {Error}", _jobId, failures, delay, ex.Message);
                }
                await Task.Delay(delay, _stopping);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>The longest wait between resends: short enough that a freed disk is noticed within seconds.</summary>
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);
}
