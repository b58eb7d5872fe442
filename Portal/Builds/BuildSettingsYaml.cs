using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Kaizen.Portal.Builds;

/// <summary>
/// Build settings as YAML, for people to review, copy and paste:
/// <code>
/// setup:
///   - echo setup
/// jobs:
///   - name: test
///     commands:
///       - pytest
/// epilogue:
///   - echo done
/// </code>
/// Multi-line commands are written as literal block scalars (<c>|</c>). Reading checks the shape only (keys, types);
/// whether the settings can be saved is <see cref="BuildSettings.Validate"/>'s call.
/// </summary>
public static partial class BuildSettingsYaml
{
    private const string SetupKey = "setup";
    private const string JobsKey = "jobs";
    private const string EpilogueKey = "epilogue";
    private const string NameKey = "name";
    private const string CommandsKey = "commands";
    private const string TestReportsKey = "testReports";
    private const string CoverageKey = "coverage";
    private const string ImageKey = "image";
    private const string ServicesKey = "services";
    private const string AliasKey = "alias";
    private const string EnvKey = "env";
    private const string ReadyKey = "ready";
    private const string BlocksKey = "blocks";
    private const string DependenciesKey = "dependencies";
    private const string PrologueKey = "prologue";
    private const string MatrixKey = "matrix";
    private const string ValuesKey = "values";
    private const string WhenKey = "when";
    private const string BranchKey = "branch";
    private const string TagKey = "tag";
    private const string PullRequestKey = "pullRequest";
    private const string ChangedKey = "changed";
    private const string TimeLimitKey = "timeLimit";
    private const string BuildTimeLimitKey = "buildTimeLimit";
    private const string FailFastKey = "failFast";
    private const string AutoCancelKey = "autoCancel";

    public static string ToYaml(BuildSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var writer = new StringWriter { NewLine = "\n" };
        var emitter = new Emitter(writer, bestIndent: 2, bestWidth: int.MaxValue, isCanonical: false);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        emitter.Emit(new MappingStart());

        if (!string.IsNullOrWhiteSpace(settings.Image))
        {
            Key(emitter, ImageKey);
            Text(emitter, settings.Image);
        }
        // The keys of pipelines appear only when set, so flat settings export exactly as before.
        Variables(emitter, settings.Env);
        OptionalText(emitter, TimeLimitKey, settings.TimeLimit);
        OptionalText(emitter, BuildTimeLimitKey, settings.BuildTimeLimit);
        OptionalBool(emitter, FailFastKey, settings.FailFast);
        OptionalBool(emitter, AutoCancelKey, settings.AutoCancel);
        Key(emitter, SetupKey);
        Commands(emitter, settings.Setup ?? []);
        if (settings.HasBlocks)
        {
            Key(emitter, BlocksKey);
            emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
            foreach (var block in settings.Blocks!) Block(emitter, block);
            emitter.Emit(new SequenceEnd());
        }
        else
        {
            Key(emitter, JobsKey);
            JobList(emitter, settings.Jobs ?? []);
        }
        Key(emitter, EpilogueKey);
        Commands(emitter, settings.Epilogue ?? []);

        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString();
    }

    private static void Key(IEmitter emitter, string key) => emitter.Emit(new Scalar(key));

    private static void JobList(IEmitter emitter, IReadOnlyList<JobSettings> jobs)
    {
        emitter.Emit(new SequenceStart(null, null, isImplicit: true, jobs.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
        foreach (var job in jobs) Job(emitter, job);
        emitter.Emit(new SequenceEnd());
    }

    private static void Block(IEmitter emitter, BlockSettings? block)
    {
        emitter.Emit(new MappingStart());
        Key(emitter, NameKey);
        Text(emitter, block?.Name ?? "");
        if (block?.Dependencies is { } dependencies)
        {
            Key(emitter, DependenciesKey);
            Commands(emitter, dependencies);
        }
        When(emitter, block?.When);
        Variables(emitter, block?.Env);
        OptionalCommands(emitter, PrologueKey, block?.Prologue);
        Key(emitter, JobsKey);
        JobList(emitter, block?.Jobs ?? []);
        OptionalCommands(emitter, EpilogueKey, block?.Epilogue);
        emitter.Emit(new MappingEnd());
    }

    private static void Job(IEmitter emitter, JobSettings? job)
    {
        emitter.Emit(new MappingStart());
        Key(emitter, NameKey);
        Text(emitter, job?.Name ?? "");
        When(emitter, job?.When);
        if (job?.Matrix is { Count: > 0 } matrix)
        {
            Key(emitter, MatrixKey);
            emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
            foreach (var axis in matrix)
            {
                emitter.Emit(new MappingStart());
                Key(emitter, NameKey);
                Text(emitter, axis?.Name ?? "");
                Key(emitter, ValuesKey);
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Flow));
                foreach (var value in axis?.Values ?? []) Quoted(emitter, value ?? "");
                emitter.Emit(new SequenceEnd());
                emitter.Emit(new MappingEnd());
            }
            emitter.Emit(new SequenceEnd());
        }
        Variables(emitter, job?.Env);
        OptionalText(emitter, TimeLimitKey, job?.TimeLimit);
        OptionalCommands(emitter, PrologueKey, job?.Prologue);
        Key(emitter, CommandsKey);
        Commands(emitter, job?.Commands ?? []);
        OptionalCommands(emitter, EpilogueKey, job?.Epilogue);
        // Only jobs that declare reports carry the keys, so older exports stay as they were.
        OptionalCommands(emitter, TestReportsKey, job?.TestReports);
        OptionalCommands(emitter, CoverageKey, job?.Coverage);
        if (!string.IsNullOrWhiteSpace(job?.Image))
        {
            Key(emitter, ImageKey);
            Text(emitter, job.Image);
        }
        if (job?.Services is { Count: > 0 } services)
        {
            Key(emitter, ServicesKey);
            emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
            foreach (var service in services) Service(emitter, service);
            emitter.Emit(new SequenceEnd());
        }
        emitter.Emit(new MappingEnd());
    }

    private static void When(IEmitter emitter, WhenSettings? when)
    {
        if (when is null) return;
        Key(emitter, WhenKey);
        emitter.Emit(new MappingStart());
        OptionalCommands(emitter, BranchKey, when.Branch);
        OptionalCommands(emitter, TagKey, when.Tag);
        OptionalBool(emitter, PullRequestKey, when.PullRequest);
        OptionalCommands(emitter, ChangedKey, when.Changed);
        emitter.Emit(new MappingEnd());
    }

    private static void Variables(IEmitter emitter, IReadOnlyDictionary<string, string>? env)
    {
        if (env is not { Count: > 0 }) return;
        Key(emitter, EnvKey);
        emitter.Emit(new MappingStart());
        foreach (var (name, value) in env)
        {
            Text(emitter, name);
            Quoted(emitter, value ?? "");
        }
        emitter.Emit(new MappingEnd());
    }

    private static void OptionalCommands(IEmitter emitter, string key, IReadOnlyList<string>? list)
    {
        if (list is not { Count: > 0 }) return;
        Key(emitter, key);
        Commands(emitter, list);
    }

    private static void OptionalText(IEmitter emitter, string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return;
        Key(emitter, key);
        Text(emitter, value);
    }

    private static void OptionalBool(IEmitter emitter, string key, bool? value)
    {
        if (value is not { } b) return;
        Key(emitter, key);
        emitter.Emit(new Scalar(null, null, b ? "true" : "false", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
    }

    /// <summary>A value that is text whatever it looks like ("18", "true"): quoted unless multi-line.</summary>
    private static void Quoted(IEmitter emitter, string value) =>
        emitter.Emit(new Scalar(null, null, value, value.Contains('\n') ? ScalarStyle.Literal : ScalarStyle.DoubleQuoted,
            isPlainImplicit: true, isQuotedImplicit: true));

    /// <summary>A job's services as a YAML list (the settings editor's services field); empty for none.</summary>
    public static string ServicesToYaml(IReadOnlyList<ServiceSettings>? services)
    {
        if (services is not { Count: > 0 }) return "";
        var writer = new StringWriter { NewLine = "\n" };
        var emitter = new Emitter(writer, bestIndent: 2, bestWidth: int.MaxValue, isCanonical: false);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
        foreach (var service in services) Service(emitter, service);
        emitter.Emit(new SequenceEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString();
    }

    /// <summary>Reads what <see cref="ServicesToYaml"/> writes (or a person types); errors say line and column.</summary>
    public static (IReadOnlyList<ServiceSettings>? Services, IReadOnlyList<string> Errors) ServicesFromYaml(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        if (string.IsNullOrWhiteSpace(yaml)) return (null, []);
        var stream = new YamlStream();
        try
        {
            if (FirstAlias(yaml) is { } alias)
                return (null, [At(alias.Start, $"aliases (*{alias.Value}) are not allowed in build settings; write the value out where it is used.")]);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            return (null, [At(e.Start, Describe(e))]);
        }
        catch (ArgumentException e)
        {
            return (null, [$"The YAML could not be read: {e.Message}"]);
        }
        catch (InvalidOperationException)
        {
            return (null, [Unreadable(yaml)]);
        }
        if (stream.Documents.Count == 0) return (null, []);
        var errors = new List<string>();
        var services = new Reader(errors).Services(stream.Documents[0].RootNode, "this job");
        return errors.Count > 0 ? (null, errors) : (services.Count > 0 ? services : null, []);
    }

    private static void Service(IEmitter emitter, ServiceSettings? service)
    {
        emitter.Emit(new MappingStart());
        Key(emitter, ImageKey);
        Text(emitter, service?.Image ?? "");
        Key(emitter, AliasKey);
        Text(emitter, service?.Alias ?? "");
        if (service?.Env is { Count: > 0 } env)
        {
            Key(emitter, EnvKey);
            emitter.Emit(new MappingStart());
            foreach (var (name, value) in env)
            {
                Text(emitter, name);
                Text(emitter, value ?? "");
            }
            emitter.Emit(new MappingEnd());
        }
        if (!string.IsNullOrWhiteSpace(service?.Ready))
        {
            Key(emitter, ReadyKey);
            // Quoted when a port, so other YAML readers keep it text like a command.
            Text(emitter, service.Ready);
        }
        emitter.Emit(new MappingEnd());
    }

    private static void Commands(IEmitter emitter, IReadOnlyList<string> commands)
    {
        // An empty list reads better as "setup: []" than as a bare "setup:" (which other tools read as null).
        emitter.Emit(new SequenceStart(null, null, isImplicit: true, commands.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
        foreach (var command in commands) Text(emitter, command ?? "");
        emitter.Emit(new SequenceEnd());
    }

    private static void Text(IEmitter emitter, string value)
    {
        // Multi-line text as "|" keeps a script readable; the emitter falls back to quoting when a block scalar
        // cannot represent the text exactly (trailing spaces, control characters).
        var style = value.Contains('\n') ? ScalarStyle.Literal
            : LooksLikeNonText().IsMatch(value) ? ScalarStyle.DoubleQuoted
            : ScalarStyle.Any;
        emitter.Emit(new Scalar(null, null, value, style, isPlainImplicit: true, isQuotedImplicit: true));
    }

    /// <summary>Plain words other YAML readers would take for null, a boolean or a number: quoted so they stay text.</summary>
    [GeneratedRegex(@"^(~|null|true|false|yes|no|on|off|y|n|[-+]?(\.?[0-9][0-9_.,eE+-]*|\.inf|\.nan)|0x[0-9a-fA-F]+|0o[0-7]+)$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LooksLikeNonText();

    /// <summary>
    /// Reads settings written by <see cref="ToYaml"/> (or by hand). Never throws for bad input: malformed YAML,
    /// unknown keys and wrong types come back as messages that start with "Line L, column C:".
    /// </summary>
    public static (BuildSettings? Settings, IReadOnlyList<string> Errors) FromYaml(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var stream = new YamlStream();
        try
        {
            // An alias repeats a node without its size showing: 500 aliases of a 100 KB anchor are 50 MB of settings.
            if (FirstAlias(yaml) is { } alias)
                return (null, [At(alias.Start, $"aliases (*{alias.Value}) are not allowed in build settings; write the value out where it is used.")]);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            return (null, [At(e.Start, Describe(e))]);
        }
        catch (ArgumentException e)
        {
            // Older YamlDotNet reports a repeated key this way, without a position.
            return (null, [$"The YAML could not be read: {e.Message}"]);
        }
        catch (InvalidOperationException)
        {
            return (null, [Unreadable(yaml)]);
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
            return (null, ["The YAML is empty. Expected a mapping with setup, jobs and epilogue, for example:\n" +
                           "jobs:\n  - name: test\n    commands:\n      - make test"]);
        if (stream.Documents.Count > 1)
            return (null, [At(stream.Documents[1].RootNode.Start, "only one YAML document is expected; remove the second '---'.")]);

        var errors = new List<string>();
        var reader = new Reader(errors);
        var settings = reader.Settings(stream.Documents[0].RootNode);
        return errors.Count > 0 ? (null, errors) : (settings, []);
    }

    private static YamlDotNet.Core.Events.AnchorAlias? FirstAlias(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        while (parser.MoveNext())
        {
            if (parser.Current is YamlDotNet.Core.Events.AnchorAlias alias) return alias;
        }

        return null;
    }

    /// <summary>YamlDotNet gives up with an InvalidOperationException on some unclosed flow lists ("[lint" running into the
    /// next line) instead of a YamlException: said at the last place it could still read.</summary>
    private static string Unreadable(string yaml) => At(LastReadable(yaml), "the YAML cannot be read after this point; is a [ or { not closed?");

    /// <summary>Where the reader last got to in <paramref name="yaml"/> before giving up (for errors YamlDotNet gives
    /// without a position).</summary>
    internal static Mark LastReadable(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var last = new Mark(0, 1, 1);
        try
        {
            while (parser.MoveNext()) last = parser.Current!.Start;
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
        }
        return last;
    }

    private static string At(Mark mark, string message) => $"Line {mark.Line}, column {mark.Column}: {message}";

    /// <summary>YamlDotNet prefixes its messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; we say where in our own words.</summary>
    private static string Describe(YamlException e)
    {
        var message = MarkPrefix().Replace(e.Message, "").Trim();
        if (message.Length == 0) message = "the YAML is malformed.";
        if (message.StartsWith("Duplicate key", StringComparison.OrdinalIgnoreCase))
            message = "a key appears twice in the same mapping.";
        return char.ToLowerInvariant(message[0]) + message[1..];
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex MarkPrefix();

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s
        && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private static string Kind(YamlNode node) => node switch
    {
        _ when IsNull(node) => "nothing",
        YamlScalarNode => "text",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "something else",
    };

    private sealed class Reader(List<string> errors)
    {
        public BuildSettings Settings(YamlNode root)
        {
            if (root is not YamlMappingNode map)
            {
                Error(root, $"expected a mapping with setup, jobs and epilogue, found {Kind(root)}.");
                return BuildSettings.Empty;
            }
            IReadOnlyList<string> setup = [], epilogue = [];
            IReadOnlyList<JobSettings> jobs = [];
            List<BlockSettings>? blocks = null;
            Dictionary<string, string>? env = null;
            string? image = null, timeLimit = null, buildTimeLimit = null;
            bool? failFast = null, autoCancel = null;
            foreach (var (keyNode, value) in map.Children)
            {
                switch (KeyOf(keyNode))
                {
                    case SetupKey: setup = CommandList(value, SetupKey); break;
                    case JobsKey: jobs = Jobs(value); break;
                    case BlocksKey: blocks = Blocks(value); break;
                    case EpilogueKey: epilogue = CommandList(value, EpilogueKey); break;
                    case ImageKey: image = TextOf(value, "the project's image"); break;
                    case EnvKey: env = Variables(value, "the settings' env"); break;
                    case TimeLimitKey: timeLimit = TextOf(value, "timeLimit"); break;
                    case BuildTimeLimitKey: buildTimeLimit = TextOf(value, "buildTimeLimit"); break;
                    case FailFastKey: failFast = BoolOf(value, FailFastKey); break;
                    case AutoCancelKey: autoCancel = BoolOf(value, AutoCancelKey); break;
                    case null: break;
                    case var key:
                        Error(keyNode, $"unknown key '{key}'. Expected image, env, timeLimit, buildTimeLimit, failFast, autoCancel, setup, jobs, blocks or epilogue.");
                        break;
                }
            }
            return new BuildSettings(setup, jobs, epilogue, image, blocks is { Count: > 0 } ? blocks : null,
                env is { Count: > 0 } ? env : null, timeLimit, buildTimeLimit, failFast, autoCancel);
        }

        private List<BlockSettings> Blocks(YamlNode node)
        {
            var blocks = new List<BlockSettings>();
            if (IsNull(node)) return blocks;
            if (node is not YamlSequenceNode list)
            {
                Error(node, $"blocks must be a list of blocks (\"- name: ...\"), found {Kind(node)}.");
                return blocks;
            }
            foreach (var item in list.Children)
            {
                if (item is not YamlMappingNode map)
                {
                    Error(item, $"each block must be a mapping with name and jobs, found {Kind(item)}.");
                    continue;
                }
                string? name = null;
                List<JobSettings> jobs = [];
                IReadOnlyList<string>? dependencies = null, prologue = null, epilogue = null;
                Dictionary<string, string>? env = null;
                WhenSettings? when = null;
                foreach (var (keyNode, value) in map.Children)
                {
                    var what = $"block '{name ?? "(unnamed)"}'";
                    switch (KeyOf(keyNode))
                    {
                        case NameKey: name = TextOf(value, "a block's name"); break;
                        case JobsKey: jobs = Jobs(value); break;
                        case DependenciesKey: dependencies = CommandList(value, $"the dependencies of {what}"); break;
                        case PrologueKey: prologue = CommandList(value, $"the prologue of {what}"); break;
                        case EpilogueKey: epilogue = CommandList(value, $"the epilogue of {what}"); break;
                        case EnvKey: env = Variables(value, $"the env of {what}"); break;
                        case WhenKey: when = When(value, what); break;
                        case null: break;
                        case var key:
                            Error(keyNode, $"unknown key '{key}' in a block. Expected name, dependencies, when, env, prologue, jobs and epilogue.");
                            break;
                    }
                }
                blocks.Add(new BlockSettings(name ?? "", jobs, dependencies, prologue is { Count: > 0 } ? prologue : null,
                    epilogue is { Count: > 0 } ? epilogue : null, env is { Count: > 0 } ? env : null, when));
            }
            return blocks;
        }

        private Dictionary<string, string>? Variables(YamlNode node, string what)
        {
            if (IsNull(node)) return null;
            if (node is not YamlMappingNode variables)
            {
                Error(node, $"{what} must be a mapping of NAME: value, found {Kind(node)}.");
                return null;
            }
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (nameNode, valueNode) in variables.Children)
            {
                if (KeyOf(nameNode) is { } variable) env[variable] = TextOf(valueNode, $"the value of {variable}") ?? "";
            }
            return env;
        }

        private bool? BoolOf(YamlNode node, string what)
        {
            if (IsNull(node)) return null;
            if (node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } text })
            {
                if (text is "true" or "True" or "TRUE") return true;
                if (text is "false" or "False" or "FALSE") return false;
            }
            Error(node, $"{what} must be true or false, found {Kind(node)}.");
            return null;
        }

        /// <summary>Text or a list of texts: <c>branch: main</c> and <c>branch: [main, "release/*"]</c> alike.</summary>
        private List<string>? Patterns(YamlNode node, string what)
        {
            if (IsNull(node)) return null;
            if (node is YamlScalarNode scalar) return [scalar.Value ?? ""];
            return CommandList(node, what);
        }

        private WhenSettings? When(YamlNode node, string what)
        {
            if (IsNull(node)) return null;
            if (node is not YamlMappingNode map)
            {
                Error(node, $"the when of {what} must be a mapping of branch, tag, pullRequest and changed, found {Kind(node)}.");
                return null;
            }
            List<string>? branch = null, tag = null, changed = null;
            bool? pullRequest = null;
            foreach (var (keyNode, value) in map.Children)
            {
                switch (KeyOf(keyNode))
                {
                    case BranchKey: branch = Patterns(value, $"the branch patterns of {what}"); break;
                    case TagKey: tag = Patterns(value, $"the tag patterns of {what}"); break;
                    case ChangedKey: changed = Patterns(value, $"the changed paths of {what}"); break;
                    case PullRequestKey: pullRequest = BoolOf(value, PullRequestKey); break;
                    case null: break;
                    case var key:
                        Error(keyNode, $"unknown key '{key}' in a condition. Expected branch, tag, pullRequest and changed.");
                        break;
                }
            }
            return new WhenSettings(branch, tag, pullRequest, changed);
        }

        private List<MatrixAxis>? Matrix(YamlNode node, string what)
        {
            if (IsNull(node)) return null;
            if (node is not YamlSequenceNode list)
            {
                Error(node, $"the matrix of {what} must be a list of axes (\"- name: NODE\" with values), found {Kind(node)}.");
                return null;
            }
            var axes = new List<MatrixAxis>();
            foreach (var item in list.Children)
            {
                if (item is not YamlMappingNode map)
                {
                    Error(item, $"each axis of the matrix of {what} must be a mapping with name and values, found {Kind(item)}.");
                    continue;
                }
                string? name = null;
                List<string> values = [];
                foreach (var (keyNode, value) in map.Children)
                {
                    switch (KeyOf(keyNode))
                    {
                        case NameKey: name = TextOf(value, "an axis's name"); break;
                        case ValuesKey: values = CommandList(value, $"the values of axis '{name ?? "(unnamed)"}'"); break;
                        case null: break;
                        case var key:
                            Error(keyNode, $"unknown key '{key}' in a matrix axis. Expected name and values.");
                            break;
                    }
                }
                axes.Add(new MatrixAxis(name ?? "", values));
            }
            return axes;
        }

        private List<JobSettings> Jobs(YamlNode node)
        {
            var jobs = new List<JobSettings>();
            if (IsNull(node)) return jobs;
            if (node is not YamlSequenceNode list)
            {
                Error(node, $"jobs must be a list of jobs (\"- name: ...\"), found {Kind(node)}.");
                return jobs;
            }
            foreach (var item in list.Children)
            {
                if (item is not YamlMappingNode job)
                {
                    Error(item, $"each job must be a mapping with name and commands, found {Kind(item)}.");
                    continue;
                }
                string? name = null;
                IReadOnlyList<string> commands = [];
                IReadOnlyList<string>? testReports = null, coverage = null;
                string? image = null, timeLimit = null;
                List<ServiceSettings>? services = null;
                IReadOnlyList<string>? prologue = null, epilogue = null;
                Dictionary<string, string>? env = null;
                List<MatrixAxis>? matrix = null;
                WhenSettings? when = null;
                foreach (var (keyNode, value) in job.Children)
                {
                    var what = $"job '{name ?? "(unnamed)"}'";
                    switch (KeyOf(keyNode))
                    {
                        case PrologueKey: prologue = CommandList(value, $"the prologue of {what}"); break;
                        case EpilogueKey: epilogue = CommandList(value, $"the epilogue of {what}"); break;
                        case EnvKey: env = Variables(value, $"the env of {what}"); break;
                        case MatrixKey: matrix = Matrix(value, what); break;
                        case WhenKey: when = When(value, what); break;
                        case TimeLimitKey: timeLimit = TextOf(value, $"the time limit of {what}"); break;
                        case NameKey:
                            if (value is YamlScalarNode scalar && !IsNull(value)) name = scalar.Value;
                            else Error(value, $"a job's name must be text, found {Kind(value)}.");
                            break;
                        case CommandsKey:
                            commands = CommandList(value, $"the commands of job '{name ?? "(unnamed)"}'");
                            break;
                        case TestReportsKey:
                            testReports = CommandList(value, $"the test reports of job '{name ?? "(unnamed)"}'");
                            break;
                        case CoverageKey:
                            coverage = CommandList(value, $"the coverage reports of job '{name ?? "(unnamed)"}'");
                            break;
                        case ImageKey:
                            image = TextOf(value, $"the image of job '{name ?? "(unnamed)"}'");
                            break;
                        case ServicesKey:
                            services = Services(value, name ?? "(unnamed)");
                            break;
                        case null: break;
                        case var key:
                            Error(keyNode, $"unknown key '{key}' in a job. Expected name, when, matrix, env, timeLimit, prologue, commands, epilogue, image, services, testReports and coverage.");
                            break;
                    }
                }
                jobs.Add(new JobSettings(name ?? "", commands, testReports is { Count: > 0 } ? testReports : null,
                    coverage is { Count: > 0 } ? coverage : null, image, services is { Count: > 0 } ? services : null,
                    env is { Count: > 0 } ? env : null, prologue is { Count: > 0 } ? prologue : null,
                    epilogue is { Count: > 0 } ? epilogue : null, matrix, when, timeLimit));
            }
            return jobs;
        }

        private string? TextOf(YamlNode node, string what)
        {
            if (IsNull(node)) return null;
            if (node is YamlScalarNode scalar) return scalar.Value;
            Error(node, $"{what} must be text, found {Kind(node)}.");
            return null;
        }

        public List<ServiceSettings> Services(YamlNode node, string job)
        {
            var services = new List<ServiceSettings>();
            if (IsNull(node)) return services;
            if (node is not YamlSequenceNode list)
            {
                Error(node, $"the services of job '{job}' must be a list (\"- image: ...\"), found {Kind(node)}.");
                return services;
            }
            foreach (var item in list.Children)
            {
                if (item is not YamlMappingNode map)
                {
                    Error(item, $"each service of job '{job}' must be a mapping with image and alias, found {Kind(item)}.");
                    continue;
                }
                string? image = null, alias = null, ready = null;
                Dictionary<string, string>? env = null;
                foreach (var (keyNode, value) in map.Children)
                {
                    switch (KeyOf(keyNode))
                    {
                        case ImageKey: image = TextOf(value, "a service's image"); break;
                        case AliasKey: alias = TextOf(value, "a service's alias"); break;
                        case ReadyKey: ready = TextOf(value, "a service's ready check"); break;
                        case EnvKey:
                            env = [];
                            if (IsNull(value)) break;
                            if (value is not YamlMappingNode variables)
                            {
                                Error(value, $"a service's env must be a mapping of NAME: value, found {Kind(value)}.");
                                break;
                            }
                            foreach (var (nameNode, valueNode) in variables.Children)
                            {
                                if (KeyOf(nameNode) is { } variable) env[variable] = TextOf(valueNode, $"the value of {variable}") ?? "";
                            }
                            break;
                        case null: break;
                        case var key:
                            Error(keyNode, $"unknown key '{key}' in a service. Expected image, alias, env and ready.");
                            break;
                    }
                }
                services.Add(new ServiceSettings(image ?? "", alias ?? "", env is { Count: > 0 } ? env : null, ready));
            }
            return services;
        }

        private List<string> CommandList(YamlNode node, string what)
        {
            var commands = new List<string>();
            if (IsNull(node)) return commands;
            if (node is not YamlSequenceNode list)
            {
                Error(node, $"{what} must be a list of commands (one \"- command\" per line), found {Kind(node)}.");
                return commands;
            }
            foreach (var item in list.Children)
            {
                if (item is YamlScalarNode scalar && !IsNull(item)) commands.Add(scalar.Value ?? "");
                else Error(item, $"each command in {what} must be text, found {Kind(item)}.");
            }
            return commands;
        }

        private string? KeyOf(YamlNode key)
        {
            if (key is YamlScalarNode { Value: { } text }) return text;
            Error(key, $"a key must be text, found {Kind(key)}.");
            return null;
        }

        private void Error(YamlNode node, string message) => errors.Add(At(node.Start, message));
    }
}
