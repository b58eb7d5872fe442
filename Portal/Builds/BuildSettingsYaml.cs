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
        Key(emitter, SetupKey);
        Commands(emitter, settings.Setup ?? []);
        Key(emitter, JobsKey);
        var jobs = settings.Jobs ?? [];
        emitter.Emit(new SequenceStart(null, null, isImplicit: true, jobs.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
        foreach (var job in jobs)
        {
            emitter.Emit(new MappingStart());
            Key(emitter, NameKey);
            Text(emitter, job?.Name ?? "");
            Key(emitter, CommandsKey);
            Commands(emitter, job?.Commands ?? []);
            // Only jobs that declare reports carry the keys, so older exports stay as they were.
            if (job?.TestReports is { Count: > 0 } reports)
            {
                Key(emitter, TestReportsKey);
                Commands(emitter, reports);
            }
            if (job?.Coverage is { Count: > 0 } coverage)
            {
                Key(emitter, CoverageKey);
                Commands(emitter, coverage);
            }
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
        emitter.Emit(new SequenceEnd());
        Key(emitter, EpilogueKey);
        Commands(emitter, settings.Epilogue ?? []);

        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString();
    }

    private static void Key(IEmitter emitter, string key) => emitter.Emit(new Scalar(key));

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
            string? image = null;
            foreach (var (keyNode, value) in map.Children)
            {
                switch (KeyOf(keyNode))
                {
                    case SetupKey: setup = CommandList(value, SetupKey); break;
                    case JobsKey: jobs = Jobs(value); break;
                    case EpilogueKey: epilogue = CommandList(value, EpilogueKey); break;
                    case ImageKey: image = TextOf(value, "the project's image"); break;
                    case null: break;
                    case var key:
                        Error(keyNode, $"unknown key '{key}'. Expected image, setup, jobs or epilogue.");
                        break;
                }
            }
            return new BuildSettings(setup, jobs, epilogue, image);
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
                string? image = null;
                List<ServiceSettings>? services = null;
                foreach (var (keyNode, value) in job.Children)
                {
                    switch (KeyOf(keyNode))
                    {
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
                            Error(keyNode, $"unknown key '{key}' in a job. Expected name, commands, image, services, testReports and coverage.");
                            break;
                    }
                }
                jobs.Add(new JobSettings(name ?? "", commands, testReports is { Count: > 0 } ? testReports : null,
                    coverage is { Count: > 0 } ? coverage : null, image, services is { Count: > 0 } ? services : null));
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
