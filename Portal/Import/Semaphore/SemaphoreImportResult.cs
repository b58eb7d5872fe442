using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Import.Semaphore;

/// <summary>What a Semaphore pipeline became: the build settings, one server per promotion, the secrets to define and
/// every line that could not be translated (with why). <see cref="Errors"/>: the input could not be read at all (the
/// other parts are then empty). <see cref="Problems"/>: the settings as translated would be refused (e.g. too many jobs).</summary>
public sealed record SemaphoreImportResult(
    BuildSettings? Settings,
    IReadOnlyList<ImportedServer> Servers,
    IReadOnlyList<UntranslatedLine> Untranslated,
    IReadOnlyList<SecretToDefine> Secrets,
    IReadOnlyList<ImportError> Errors,
    IReadOnlyList<string> Problems)
{
    public bool Ok => Errors.Count == 0 && Settings is not null;

    public static SemaphoreImportResult Failed(params ImportError[] errors) => new(null, [], [], [], errors, []);
}

/// <summary>A promotion as a server: automatic after a passed build of <see cref="Branch"/>, else manual.</summary>
public sealed record ImportedServer(string Name, IReadOnlyList<string> Commands, string TriggerMode, string Branch, string PipelineFile, int Line)
{
    public ServerSpec ToSpec() => new(Name, Commands, TriggerMode, Branch, 0, Deployers.Members);
}

/// <summary>A line of a pipeline file that Kaizen does not do (or does differently), and why.</summary>
public sealed record UntranslatedLine(string File, int Line, string Text, string Reason);

/// <summary>A Semaphore secret the pipeline uses: define its variables (or files) as Kaizen secrets. Never invented.</summary>
public sealed record SecretToDefine(string Name, string File, int Line, string UsedBy);

/// <summary>Why a file could not be read: where (line and column, 1-based) and what.</summary>
public sealed record ImportError(string File, int Line, int Column, string Message)
{
    public override string ToString() => Line > 0 ? $"{File} line {Line}, column {Column}: {Message}" : $"{File}: {Message}";
}
