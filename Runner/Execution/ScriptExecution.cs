using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Execution;

/// <summary>
/// Runs a shared script as one command of the job's shell, <c>"$BASH" -- FILE ARGS</c>, so it is a script of its own:
/// <c>exit</c>, <c>$1</c>, <c>set -e</c> and its variables behave as in any bash script and never reach the job's
/// shell, while the arguments are expanded by the job's shell like those of any command. FILE is an instrumented copy:
/// before each top-level command it writes a marker with a per-run nonce to a copy of its stdout taken at the start
/// (so <c>exec &gt;file</c> in the script does not lose them), which splits the output per step and times each step
/// (Started/Finished with its exit status). Markers keep <c>$?</c> for the next command, do not trip <c>set -e</c>,
/// are not traced by <c>set -x</c> and keep line numbers (bash's errors name the script's own lines). A step the script
/// never reached is reported as skipped; the section ends with the script's exit status.
/// </summary>
internal sealed class ScriptExecution(ScriptCall script, IJobOutput output, Func<ValueTask> flush, Func<long> now, CancellationToken cancellationToken)
{
    private const string MarkerName = "##kaizen-script-";

    private readonly IReadOnlyList<ScriptStep> _steps = ValidSteps(script);
    private readonly HashSet<int> _reported = [];
    private int _currentStep = -1;
    private long _stepStarted;
    private long? _stepStartedMicros;

    /// <summary>Runs the script in <paramref name="session"/>; output of the section itself (before the first step, after
    /// a step ended, bash's syntax errors) goes to <paramref name="sectionIndex"/>.</summary>
    public async Task<CommandResult> RunAsync(IShellSession session, int sectionIndex, string? library)
    {
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var splitter = new ScriptMarkerSplitter(MarkerName + nonce + ":");
        var target = sectionIndex;
        Func<ReadOnlyMemory<byte>, ValueTask> write = data => output.WriteAsync(target, data, cancellationToken);
        var result = await session.RunAsync(Command(script, _steps, nonce, library),
            data => splitter.FeedAsync(data, write, async payload =>
            {
                await flush().ConfigureAwait(false);
                target = OnMarker(payload) ?? sectionIndex;
            }), cancellationToken).ConfigureAwait(false);
        await splitter.FlushAsync(write).ConfigureAwait(false);
        await flush().ConfigureAwait(false);

        // A step still open is the one the script ended in (exit, set -e, a fatal error): it ends with the script.
        FinishCurrent(result.ExitCode);
        SkipRemaining();
        return result;
    }

    /// <summary>
    /// The command the job's shell runs: it writes the instrumented script to a temporary folder of its own (through
    /// a heredoc, so this works wherever the shell runs, on the host or in a container), checks it with <c>bash -n</c>
    /// (a syntax error anywhere fails the section before any step runs, with bash's own message, where bash alone would
    /// only meet it at that line), runs it with the arguments as written, removes the folder and ends with the script's
    /// exit status. The arguments end their line, so a comment after them stays a comment.
    /// </summary>
    internal static string Command(ScriptCall script, IReadOnlyList<ScriptStep> steps, string nonce, string? library)
    {
        // $0 of the script: its name, as a file of its own (names come from the portal; kept to safe characters anyway).
        var name = new string(script.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        var file = $"\"$__kaizen_script/{(name.Trim('.').Length > 0 ? name : "script")}.sh\"";
        var delimiter = "KAIZEN_SCRIPT_" + nonce;
        var body = Instrument(script.Body, steps.Select(s => s.Start).ToList(), nonce, library);
        var arguments = string.IsNullOrWhiteSpace(script.Arguments) ? "" : " " + script.Arguments.Trim();
        return new StringBuilder(body.Length + 600)
            // The folder's name is the run's random nonce (unguessable, so safe in a shared /tmp); mkdir, cat and rm are
            // all it needs of the image, which even a minimal busybox has (mktemp is not always there).
            .Append("__kaizen_script=\"${TMPDIR:-/tmp}/kaizen-script.").Append(nonce).Append("\" && mkdir -m 700 -- \"$__kaizen_script\" && cat > ")
            .Append(file)
            .Append(" <<'").Append(delimiter).Append("'\n")
            .Append(body).Append(body.EndsWith('\n') ? "" : "\n")
            .Append(delimiter).Append('\n')
            .Append("__kaizen_script_status=0; { \"${BASH:-bash}\" -n -- ").Append(file).Append(" && \"${BASH:-bash}\" -- ").Append(file)
            .Append(arguments).Append('\n')
            .Append("} || __kaizen_script_status=$?; rm -rf -- \"$__kaizen_script\"; unset __kaizen_script; ")
            .Append("eval \"unset __kaizen_script_status; (exit $__kaizen_script_status)\"")
            .ToString();
    }

    /// <summary>The job was canceled: the step running ends like its section, the rest are skipped.</summary>
    public void Cancel(int exitCode)
    {
        FinishCurrent(exitCode);
        SkipRemaining();
    }

    /// <summary>Reports every step not reported yet as skipped.</summary>
    public void SkipRemaining()
    {
        foreach (var step in _steps)
        {
            if (_reported.Add(step.Index)) output.CommandSkipped(step.Index, now());
        }
    }

    /// <summary>Applies a marker; returns the command index later output belongs to (null: the section).</summary>
    private int? OnMarker(string payload)
    {
        if (payload.Length < 2) return null;
        // "<kind><number>[t<microseconds>]": the time is bash's own clock when it printed the marker (empty where bash
        // has no EPOCHREALTIME), so a step's duration does not depend on when the runner got round to reading it.
        var rest = payload.AsSpan(1);
        long? micros = null;
        var t = rest.IndexOf('t');
        if (t >= 0)
        {
            if (long.TryParse(rest[(t + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var clock)) micros = clock;
            rest = rest[..t];
        }
        if (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var number)) return null;
        switch (payload[0])
        {
            case 'e':
                FinishCurrent(number, micros);
                return null;
            case 'b' when number < _steps.Count:
                FinishCurrent(0, micros);
                var step = _steps[number];
                if (!_reported.Add(step.Index)) return null;
                _currentStep = number;
                _stepStarted = Stopwatch.GetTimestamp();
                _stepStartedMicros = micros;
                output.CommandStarted(step.Index, now());
                return step.Index;
            default:
                return null;
        }
    }

    private void FinishCurrent(int exitCode, long? endedMicros = null)
    {
        if (_currentStep < 0) return;
        var index = _steps[_currentStep].Index;
        _currentStep = -1;
        var duration = endedMicros is { } end && _stepStartedMicros is { } start && end >= start
            ? (end - start) / 1000
            : (long)Stopwatch.GetElapsedTime(_stepStarted).TotalMilliseconds;
        output.CommandFinished(index, exitCode, duration, now());
    }

    /// <summary>
    /// The script with a marker before each top-level command (at <paramref name="starts"/>) and after the last. Everything
    /// added before a command sits on the command's own line and the end marker on a line after the script, so the
    /// script's line numbers stay.
    /// </summary>
    /// <summary>Reads bash's clock into <c>__kaizen_t</c> as whole microseconds; empty (and no error under
    /// <c>set -u</c>) on a bash older than 5.</summary>
    private const string Clock = "__kaizen_t=${EPOCHREALTIME-}; __kaizen_t=${__kaizen_t/[.,]/};";

    internal static string Instrument(string body, IReadOnlyList<int> starts, string nonce, string? library)
    {
        var marker = MarkerName + nonce + ":";
        var text = new StringBuilder(body.Length + (starts.Count * 200) + 300);
        text.Append("exec {__kaizen_fd}>&1; __kaizen_status() { return \"$1\"; }; ");
        if (library is not null) text.Append(". ").Append(JobExecutor.ShellQuote(library)).Append(" 2>/dev/null; ");
        var position = 0;
        for (var k = 0; k < starts.Count; k++)
        {
            text.Append(body, position, starts[k] - position);
            position = starts[k];
            // { …; } 2>/dev/null keeps set -x from tracing this; `status && :` gives the next command the previous $?
            // without tripping set -e or an ERR trap (a failure on the left of && never does).
            // Each marker carries bash's clock in microseconds (EPOCHREALTIME without its decimal point, whatever the
            // locale's separator), read once so a step's end and the next one's start are the same instant.
            text.Append(k == 0
                ? $"{{ {Clock} printf '\\n{marker}b0t%s.' \"$__kaizen_t\" >&\"$__kaizen_fd\"; }} 2>/dev/null; "
                : $"{{ __kaizen_rc=$?; {Clock} " +
                  $"printf '\\n{marker}e%dt%s.\\n{marker}b{k}t%s.' \"$__kaizen_rc\" \"$__kaizen_t\" \"$__kaizen_t\" >&\"$__kaizen_fd\"; " +
                  "__kaizen_status \"$__kaizen_rc\" && :; } 2>/dev/null; ");
        }
        text.Append(body, position, body.Length - position);
        if (starts.Count > 0)
        {
            text.Append($"\n{{ __kaizen_rc=$?; {Clock} printf '\\n{marker}e%dt%s.' \"$__kaizen_rc\" \"$__kaizen_t\" >&\"$__kaizen_fd\"; " +
                        "__kaizen_status \"$__kaizen_rc\" && :; } 2>/dev/null\n");
        }
        return text.ToString();
    }

    /// <summary>Steps in order inside the body; anything else (a portal bug, a mangled assignment) is dropped, so the
    /// script still runs whole and those commands' output stays in the section.</summary>
    private static List<ScriptStep> ValidSteps(ScriptCall script)
    {
        var steps = new List<ScriptStep>();
        var last = -1;
        foreach (var step in script.Steps ?? [])
        {
            if (step.Start <= last || step.Start > script.Body.Length) continue;
            steps.Add(step);
            last = step.Start;
        }
        return steps;
    }
}
