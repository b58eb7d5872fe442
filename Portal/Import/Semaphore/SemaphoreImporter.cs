using System.Globalization;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kaizen.Portal.Import.Semaphore;

/// <summary>
/// Translates a Semaphore pipeline (<c>.semaphore/semaphore.yml</c>) and the pipelines its promotions point to into Kaizen
/// build settings and servers. A pure function: the files' texts in, a <see cref="SemaphoreImportResult"/> out. Whatever
/// cannot be translated is listed with its file and line (never dropped in silence); secrets are listed by name, never
/// invented.
/// <para>Mapping: blocks → blocks (dependencies as written; none written → the order, as both tools do), <c>task.prologue</c>
/// and <c>global_job_config.prologue</c> → the block's prologue (global first), epilogues (<c>always</c>, <c>on_pass</c>,
/// <c>on_fail</c>) → the block's epilogue (task first), <c>env_vars</c> → env (global → settings, task → block, job →
/// job), <c>matrix</c> → matrix, <c>parallelism: N</c> → a matrix of <c>SEMAPHORE_JOB_INDEX</c> 1..N,
/// <c>run</c>/<c>skip</c> → when, <c>execution_time_limit</c> → time limits, <c>fail_fast.stop</c> → failFast,
/// <c>auto_cancel</c> → autoCancel, <c>agent.containers</c> → image and services, promotions → servers. The global
/// prologue goes to each block rather than to the settings' setup, because a deploy runs the setup too and a promoted
/// Semaphore pipeline never ran the main pipeline's prologue.</para>
/// </summary>
public static class SemaphoreImporter
{
    /// <summary>Largest pipeline file read, in characters (real ones are a few kilobytes).</summary>
    public const int MaxFileChars = 256 * 1024;

    /// <summary>Most files read (the pipeline and the pipelines its promotions point to).</summary>
    public const int MaxFiles = 20;

    /// <summary>Most YAML nodes walked in one file (aliases can make a small file a huge tree).</summary>
    private const int MaxNodes = 100_000;

    public const string DefaultPath = ".semaphore/semaphore.yml";

    /// <summary>Imports <paramref name="mainYaml"/> (named <paramref name="mainName"/> in messages); <paramref name="files"/>
    /// holds the other files of the <c>.semaphore</c> folder by name relative to it (<c>release.yml</c>), for promotions.</summary>
    public static SemaphoreImportResult Import(string mainYaml, IReadOnlyDictionary<string, string>? files = null, string mainName = "semaphore.yml")
    {
        ArgumentNullException.ThrowIfNull(mainYaml);
        files ??= new Dictionary<string, string>();
        if (files.Count + 1 > MaxFiles)
            return SemaphoreImportResult.Failed(new ImportError(mainName, 0, 0, $"at most {MaxFiles} pipeline files are read; {files.Count + 1} were given."));
        var context = new Context();
        var main = context.Load(mainName, mainYaml);
        if (main is null) return SemaphoreImportResult.Failed([.. context.Errors]);
        var settings = context.Pipeline(main);
        var servers = context.Errors.Count == 0 ? context.Promotions(main, files) : [];
        if (context.Errors.Count > 0) return SemaphoreImportResult.Failed([.. context.Errors]);
        var problems = settings.Validate();
        return new SemaphoreImportResult(settings, servers, context.Untranslated, context.Secrets, [], problems);
    }

    /// <summary>One loaded file: its name, root mapping and lines (for the text of an untranslated line).</summary>
    private sealed record PipelineFile(string Name, YamlMappingNode Root, string[] Lines);

    private sealed class Context
    {
        public List<ImportError> Errors { get; } = [];
        public List<UntranslatedLine> Untranslated { get; } = [];
        public List<SecretToDefine> Secrets { get; } = [];
        private PipelineFile _file = null!;

        public PipelineFile? Load(string name, string yaml)
        {
            if (yaml.Length > MaxFileChars)
            {
                var lines = yaml.Count(c => c == '\n') + 1;
                Errors.Add(new ImportError(name, lines, 1,
                    $"the file has {yaml.Length:N0} characters ({lines:N0} lines); a pipeline file may have at most {MaxFileChars:N0}."));
                return null;
            }
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException e)
            {
                Errors.Add(new ImportError(name, (int)e.Start.Line, (int)e.Start.Column, Describe(e)));
                return null;
            }
            catch (InvalidOperationException)
            {
                // The YAML library gives up this way on some unclosed flow lists ("[a" running into the next line).
                var at = BuildSettingsYaml.LastReadable(yaml);
                Errors.Add(new ImportError(name, (int)at.Line, (int)at.Column, "the file cannot be read after this point; is a [ or { not closed?"));
                return null;
            }
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                Errors.Add(new ImportError(name, 1, 1, "the file is not a Semaphore pipeline (a YAML mapping with version, blocks, …)."));
                return null;
            }
            if (Count(root, 0) > MaxNodes)
            {
                Errors.Add(new ImportError(name, 1, 1, $"the file expands to more than {MaxNodes:N0} YAML nodes (aliases?); a pipeline is far smaller."));
                return null;
            }
            if (Child(root, "blocks") is not YamlSequenceNode)
            {
                var at = Child(root, "blocks")?.Start ?? root.Start;
                Errors.Add(new ImportError(name, (int)at.Line, (int)at.Column, "a Semaphore pipeline needs 'blocks:', a list of blocks."));
                return null;
            }
            return new PipelineFile(name, root, yaml.Split('\n'));
        }

        private static int Count(YamlNode node, int depth)
        {
            if (depth > 200) return MaxNodes + 1;
            return node switch
            {
                YamlMappingNode m => 1 + m.Children.Sum(c => Count(c.Key, depth + 1) + Count(c.Value, depth + 1)),
                YamlSequenceNode s => 1 + s.Children.Sum(c => Count(c, depth + 1)),
                _ => 1,
            };
        }

        private static string Describe(YamlException e)
        {
            var message = System.Text.RegularExpressions.Regex.Replace(e.Message, @"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*", "").Trim();
            return message.Length == 0 ? "the YAML is malformed." : message;
        }

        // ---- lists of what is left over ----

        private void Leave(YamlNode at, string reason)
        {
            var line = (int)at.Start.Line;
            var text = line >= 1 && line <= _file.Lines.Length ? _file.Lines[line - 1].Trim() : "";
            Untranslated.Add(new UntranslatedLine(_file.Name, line, text.Length > 200 ? text[..200] + "…" : text, reason));
        }

        /// <summary>Lists every key of <paramref name="map"/> not in <paramref name="known"/>.</summary>
        private void Unknown(YamlMappingNode map, string where, params string[] known)
        {
            foreach (var (k, _) in map.Children)
            {
                if (k is YamlScalarNode { Value: { } name } && !known.Contains(name))
                    Leave(k, $"'{name}' of {where} is not a Semaphore key Kaizen knows");
            }
        }

        private static YamlNode? Child(YamlMappingNode? map, string key)
        {
            if (map is null) return null;
            foreach (var (k, v) in map.Children)
            {
                if (k is YamlScalarNode s && s.Value == key) return v;
            }
            return null;
        }

        private static YamlNode? KeyNode(YamlMappingNode map, string key) =>
            map.Children.Keys.FirstOrDefault(k => k is YamlScalarNode s && s.Value == key);

        private static string? Scalar(YamlMappingNode? map, string key) => Child(map, key) is YamlScalarNode s ? s.Value : null;

        private static IEnumerable<YamlMappingNode> Maps(YamlNode? node) =>
            node is YamlSequenceNode seq ? seq.Children.OfType<YamlMappingNode>() : [];

        // ---- the pipeline ----

        public BuildSettings Pipeline(PipelineFile file)
        {
            _file = file;
            var root = file.Root;
            Unknown(root, "the pipeline", "version", "name", "agent", "blocks", "global_job_config", "promotions", "execution_time_limit",
                "fail_fast", "auto_cancel", "queue", "after_pipeline");
            var (image, services) = Agent(root, "the pipeline");
            var global = Child(root, "global_job_config") as YamlMappingNode;
            if (global is not null)
            {
                Unknown(global, "global_job_config", "prologue", "epilogue", "env_vars", "secrets", "agent", "priority");
                var (globalImage, globalServices) = Agent(global, "global_job_config");
                image = globalImage ?? image;
                services = globalServices ?? services;
                Secret(global, "every job");
                if (KeyNode(global, "priority") is { } priority) Leave(priority, "job priorities have no Kaizen equivalent: runners take queued jobs in order");
            }
            var globalPrologue = Commands(Child(Child(global, "prologue") as YamlMappingNode, "commands"));
            var globalEpilogue = Epilogue(Child(global, "epilogue") as YamlMappingNode);
            var env = Env(Child(global, "env_vars"));

            var blocks = new List<BlockSettings>();
            var jobNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var index = 0;
            foreach (var block in Maps(Child(root, "blocks")))
            {
                index++;
                blocks.Add(Block(block, index, globalPrologue, globalEpilogue, jobNames, services));
            }

            string? buildLimit = null;
            if (Child(root, "execution_time_limit") is YamlMappingNode limit) buildLimit = Limit(limit, TimeLimits.MaxBuild);
            bool? failFast = null, autoCancel = null;
            if (Child(root, "fail_fast") is YamlMappingNode ff)
            {
                if (Child(ff, "stop") is YamlMappingNode stop && Scalar(stop, "when") is { } when && Always(when)) failFast = true;
                else if (Child(ff, "stop") is { } s) Leave(s, "a conditional fail_fast stop has no Kaizen equivalent (failFast is on or off)");
                if (KeyNode(ff, "cancel") is { } cancel)
                    Leave(cancel, "fail_fast cancel (cancel the jobs not started yet) has no exact Kaizen equivalent; failFast: true also stops running jobs");
            }
            if (Child(root, "auto_cancel") is YamlMappingNode ac)
            {
                foreach (var (k, v) in ac.Children)
                {
                    if (v is YamlMappingNode m && Scalar(m, "when") is { } when && Always(when)) autoCancel = true;
                    else Leave(k, "a conditional auto_cancel has no Kaizen equivalent (autoCancel is on or off for every branch)");
                }
            }
            if (KeyNode(root, "queue") is { } queue) Leave(queue, "queues have no Kaizen equivalent: a branch's builds run as runners are free (autoCancel can cancel older ones)");
            if (KeyNode(root, "after_pipeline") is { } after) Leave(after, "after_pipeline jobs have no Kaizen equivalent; use a block that depends on the others, or an epilogue");

            return new BuildSettings([], [], [], image, blocks, env, null, buildLimit, failFast, autoCancel);
        }

        private static bool Always(string when) => when.Trim().Equals("true", StringComparison.OrdinalIgnoreCase);

        private (string? Image, IReadOnlyList<ServiceSettings>? Services) Agent(YamlMappingNode map, string where)
        {
            if (Child(map, "agent") is not YamlMappingNode agent) return (null, null);
            string? image = null;
            List<ServiceSettings>? services = null;
            if (Child(agent, "machine") is YamlMappingNode machine)
            {
                var type = Scalar(machine, "type");
                var os = Scalar(machine, "os_image");
                Leave(KeyNode(map, "agent")!, $"the machine of {where} ({string.Join(", ", new[] { type, os }.Where(v => v is not null))}): Kaizen runs jobs on its runners (their shell, or a Docker image with image:)");
            }
            var index = 0;
            foreach (var container in Maps(Child(agent, "containers")))
            {
                var containerImage = Scalar(container, "image");
                foreach (var key in new[] { "user", "command", "entrypoint", "secrets" })
                {
                    if (KeyNode(container, key) is { } k) Leave(k, $"a container's {key} is not translated");
                }
                if (index++ == 0)
                {
                    image = containerImage;
                    if (Child(container, "env_vars") is { } ev) Leave(ev, "the main container's env_vars are not translated (set them as the block's env)");
                }
                else if (containerImage is not null)
                {
                    var alias = new string((Scalar(container, "name") ?? $"service{index}").ToLowerInvariant()
                        .Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
                    services ??= [];
                    services.Add(new ServiceSettings(containerImage, alias.Length == 0 ? $"service{index}" : alias, Env(Child(container, "env_vars"))));
                }
            }
            foreach (var key in new[] { "image_pull_secrets" })
            {
                if (KeyNode(agent, key) is { } k) Leave(k, "image pull secrets are the runner's Docker login in Kaizen");
            }
            return (image, services);
        }

        private void Secret(YamlMappingNode map, string usedBy)
        {
            foreach (var secret in Maps(Child(map, "secrets")))
            {
                if (Scalar(secret, "name") is { Length: > 0 } name)
                    Secrets.Add(new SecretToDefine(name, _file.Name, (int)secret.Start.Line, usedBy));
            }
        }

        private IReadOnlyDictionary<string, string>? Env(YamlNode? node)
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var variable in Maps(node))
            {
                var name = Scalar(variable, "name");
                if (name is null) { Leave(variable, "an env_var without a name"); continue; }
                if (name.StartsWith("KAIZEN_", StringComparison.Ordinal)) { Leave(variable, "names starting with KAIZEN_ are the runner's"); continue; }
                env[name] = Scalar(variable, "value") ?? "";
            }
            return env.Count > 0 ? env : null;
        }

        private BlockSettings Block(YamlMappingNode block, int index, IReadOnlyList<string> globalPrologue, IReadOnlyList<string> globalEpilogue,
            HashSet<string> jobNames, IReadOnlyList<ServiceSettings>? globalServices)
        {
            Unknown(block, "a block", "name", "dependencies", "task", "run", "skip", "execution_time_limit");
            var name = Scalar(block, "name") is { Length: > 0 } n ? n : $"Block #{index}";
            IReadOnlyList<string>? dependencies = Child(block, "dependencies") is YamlSequenceNode deps
                ? deps.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList()
                : null;
            var task = Child(block, "task") as YamlMappingNode;
            if (task is not null)
                Unknown(task, $"block '{name}' task", "jobs", "prologue", "epilogue", "env_vars", "secrets", "agent", "boosters");
            if (task is not null) Secret(task, $"block {name}");
            if (task is not null && KeyNode(task, "boosters") is { } boosters) Leave(boosters, "boosters (test splitting) are not translated");
            var (taskImage, taskServices) = task is null ? (null, null) : Agent(task, $"block '{name}'");
            var prologue = globalPrologue.Concat(Commands(Child(Child(task, "prologue") as YamlMappingNode, "commands"))).ToList();
            var epilogue = Epilogue(Child(task, "epilogue") as YamlMappingNode).Concat(globalEpilogue).ToList();
            var when = Condition(block);
            string? blockLimit = Child(block, "execution_time_limit") is YamlMappingNode limit ? Limit(limit, TimeLimits.MaxJob) : null;

            var jobs = new List<JobSettings>();
            var jobIndex = 0;
            foreach (var job in Maps(Child(task, "jobs")))
            {
                jobIndex++;
                jobs.Add(Job(job, name, jobIndex, jobNames, blockLimit, taskImage, taskServices ?? (taskImage is null ? null : globalServices)));
            }
            return new BlockSettings(name, jobs, dependencies, prologue.Count > 0 ? prologue : null, epilogue.Count > 0 ? epilogue : null,
                Env(Child(task, "env_vars")), when);
        }

        private JobSettings Job(YamlMappingNode job, string block, int index, HashSet<string> names, string? blockLimit, string? image,
            IReadOnlyList<ServiceSettings>? services)
        {
            Unknown(job, "a job", "name", "commands", "commands_file", "env_vars", "matrix", "parallelism", "execution_time_limit", "priority", "run", "skip");
            var name = Scalar(job, "name") is { Length: > 0 } n ? n.Trim() : $"{block} #{index}";
            if (!names.Add(name))
            {
                name = $"{block}: {name}";
                names.Add(name);
            }
            var commands = Commands(Child(job, "commands")).ToList();
            if (KeyNode(job, "commands_file") is { } file)
                Leave(file, "commands_file is not read; copy its commands into the job");
            if (commands.Count == 0)
            {
                Leave(job, $"job '{name}' has no commands; it runs 'true' in Kaizen");
                commands.Add("true");
            }
            var env = Env(Child(job, "env_vars"))?.ToDictionary() ?? [];
            List<MatrixAxis>? matrix = null;
            foreach (var axis in Maps(Child(job, "matrix")))
            {
                var variable = Scalar(axis, "env_var");
                var values = Child(axis, "values") is YamlSequenceNode vs ? vs.Children.OfType<YamlScalarNode>().Select(v => v.Value ?? "").ToList() : [];
                if (variable is null || values.Count == 0) { Leave(axis, "a matrix axis needs env_var and values"); continue; }
                (matrix ??= []).Add(new MatrixAxis(variable, values));
            }
            if (Scalar(job, "parallelism") is { } parallelism)
            {
                if (int.TryParse(parallelism, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 200)
                {
                    (matrix ??= []).Add(new MatrixAxis("SEMAPHORE_JOB_INDEX", [.. Enumerable.Range(1, count).Select(i => i.ToString(CultureInfo.InvariantCulture))]));
                    env["SEMAPHORE_JOB_COUNT"] = count.ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    Leave(KeyNode(job, "parallelism")!, "parallelism is a number from 1 to 200");
                }
            }
            if (KeyNode(job, "priority") is { } priority) Leave(priority, "job priorities have no Kaizen equivalent: runners take queued jobs in order");
            var limit = Child(job, "execution_time_limit") is YamlMappingNode l ? Limit(l, TimeLimits.MaxJob) : blockLimit;
            return new JobSettings(name, commands, Image: image, Services: services, Env: env.Count > 0 ? env : null, Matrix: matrix,
                When: Condition(job), TimeLimit: limit);
        }

        /// <summary>A block's or job's run/skip condition as a when, listing it when it does not translate.</summary>
        private WhenSettings? Condition(YamlMappingNode map)
        {
            WhenSettings? result = null;
            foreach (var (key, negate) in new[] { ("run", false), ("skip", true) })
            {
                if (Child(map, key) is not YamlMappingNode cond) continue;
                var whenNode = Child(cond, "when");
                if (whenNode is not YamlScalarNode { Value: { } text })
                {
                    Leave(KeyNode(map, key)!, $"{key} needs when: a condition");
                    continue;
                }
                var notes = new List<string>();
                var (when, error) = SemaphoreConditions.Translate(text, negate, notes);
                if (error is not null) { Leave(whenNode, error); continue; }
                foreach (var note in notes) Leave(whenNode, note);
                if (when is null) continue;
                result = result is null ? when
                    : new WhenSettings(result.Branch ?? when.Branch, result.Tag ?? when.Tag, result.PullRequest ?? when.PullRequest, result.Changed ?? when.Changed);
            }
            return result;
        }

        private string? Limit(YamlMappingNode limit, TimeSpan max)
        {
            long Part(string key) => long.TryParse(Scalar(limit, key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
            var minutes = Part("hours") * 60 + Part("minutes");
            if (minutes <= 0) { Leave(limit, "execution_time_limit needs hours or minutes"); return null; }
            if (TimeSpan.FromMinutes(minutes) > max)
            {
                Leave(limit, $"the limit is longer than Kaizen allows ({TimeLimits.Words(max)}); it became {TimeLimits.Words(max)}");
                minutes = (long)max.TotalMinutes;
            }
            return minutes % 60 == 0 ? $"{minutes / 60}h" : minutes >= 60 ? $"{minutes / 60}h{minutes % 60}m" : $"{minutes}m";
        }

        /// <summary>An epilogue's commands: <c>commands</c> and <c>always</c> as they are, <c>on_pass</c>/<c>on_fail</c>
        /// guarded by the job's result (KAIZEN_JOB_RESULT, set before every epilogue).</summary>
        private IReadOnlyList<string> Epilogue(YamlMappingNode? epilogue)
        {
            if (epilogue is null) return [];
            Unknown(epilogue, "an epilogue", "commands", "always", "on_pass", "on_fail");
            var list = new List<string>(Commands(Child(epilogue, "commands")));
            list.AddRange(Commands(Child(Child(epilogue, "always") as YamlMappingNode, "commands")));
            foreach (var (key, result) in new[] { ("on_pass", "passed"), ("on_fail", "failed") })
            {
                foreach (var command in Commands(Child(Child(epilogue, key) as YamlMappingNode, "commands")))
                    list.Add($"if [ \"$KAIZEN_JOB_RESULT\" = {result} ]; then\n{command}\nfi");
            }
            return list;
        }

        /// <summary>A list of commands as Kaizen commands: list items that only together make one shell command (an
        /// <c>if …; then</c> item, its body and its <c>fi</c>) are joined; comment items go with the next command.</summary>
        private IReadOnlyList<string> Commands(YamlNode? node)
        {
            if (node is null) return [];
            if (node is not YamlSequenceNode seq) { Leave(node, "commands must be a list"); return []; }
            var items = new List<(string Text, YamlNode Node)>();
            foreach (var item in seq.Children)
            {
                if (item is YamlScalarNode { Value: { } text }) items.Add((text, item));
                else Leave(item, "a command that is not text is not translated");
            }
            var (commands, open) = CommandJoiner.Join(items.Select(i => i.Text).ToList());
            if (open is { } start) Leave(items[start].Node, "the commands from here on do not make a complete shell command (an if without fi?); they were kept as one command");
            foreach (var (text, item) in items)
            {
                if (System.Text.RegularExpressions.Regex.IsMatch(text, @"(^|[;&|]\s*)sudo\s"))
                    Leave(item, "runs as written, but Kaizen jobs run as an ordinary user in a sandbox: sudo may fail there");
            }
            return commands;
        }

        // ---- promotions ----

        public List<ImportedServer> Promotions(PipelineFile main, IReadOnlyDictionary<string, string> files)
        {
            _file = main;
            var servers = new List<ImportedServer>();
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var promotion in Maps(Child(main.Root, "promotions")))
            {
                _file = main;
                Unknown(promotion, "a promotion", "name", "pipeline_file", "auto_promote_on", "auto_promote", "parameters", "deployment_target");
                var title = Scalar(promotion, "name") ?? Scalar(promotion, "pipeline_file") ?? "promotion";
                var name = ServerName(title, names);
                var fileNode = Child(promotion, "pipeline_file");
                var path = (fileNode as YamlScalarNode)?.Value;
                if (path is null)
                {
                    Errors.Add(new ImportError(main.Name, (int)promotion.Start.Line, (int)promotion.Start.Column, $"promotion '{title}' has no pipeline_file."));
                    continue;
                }
                var key = path.Replace('\\', '/').TrimStart('.', '/');
                if (key.StartsWith("semaphore/", StringComparison.Ordinal) && !files.ContainsKey(key)) key = key["semaphore/".Length..];
                if (!files.TryGetValue(key, out var text))
                {
                    Errors.Add(new ImportError(main.Name, (int)fileNode!.Start.Line, (int)fileNode.Start.Column,
                        $"promotion '{title}' points to {path}, which is not in the .semaphore folder (or was not uploaded with the pipeline)."));
                    continue;
                }
                var (mode, branch) = Trigger(promotion);
                if (KeyNode(promotion, "parameters") is { } parameters) Leave(parameters, "promotion parameters are not translated; use the server's variables");
                if (KeyNode(promotion, "deployment_target") is { } target) Leave(target, "deployment targets are Kaizen's servers: set who may deploy and approvals on the server");
                var line = (int)promotion.Start.Line;
                var promoted = Load(key, text);
                if (promoted is null) continue;
                var commands = Flatten(promoted, name);
                _file = main;
                if (commands.Count > ServerSpec.MaxCommands)
                    Leave(promotion, $"the promoted pipeline has {commands.Count} commands; a server has at most {ServerSpec.MaxCommands}: the rest were left out");
                servers.Add(new ImportedServer(name, commands.Take(ServerSpec.MaxCommands).ToList(), mode, branch, key, line));
            }
            return servers;
        }

        private static string ServerName(string title, HashSet<string> taken)
        {
            var name = new string(title.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray()).Trim('-', '.', '_');
            if (name.Length == 0) name = "server";
            if (name.Length > 50) name = name[..50];
            var candidate = name;
            for (var i = 2; !taken.Add(candidate); i++) candidate = $"{name[..Math.Min(name.Length, 46)]}-{i}";
            return candidate;
        }

        /// <summary>automatic after a passed build of the branches auto_promote names; manual otherwise.</summary>
        private (string Mode, string Branch) Trigger(YamlMappingNode promotion)
        {
            var branches = new List<string>();
            foreach (var rule in Maps(Child(promotion, "auto_promote_on")))
            {
                var result = Scalar(rule, "result");
                if (result != "passed") { Leave(rule, $"auto-promotion on result '{result}' is not translated: Kaizen deploys passed builds only"); continue; }
                foreach (var extra in new[] { "labels", "result_reason" })
                {
                    if (KeyNode(rule, extra) is { } k) Leave(k, $"auto-promotion on {extra} is not translated");
                }
                var ruleBranches = Child(rule, "branch") is YamlSequenceNode bs ? bs.Children.OfType<YamlScalarNode>().Select(b => b.Value ?? "").ToList() : [];
                if (ruleBranches.Count == 0) { branches.Add("*"); continue; }
                foreach (var b in ruleBranches)
                {
                    if (ServerBranch(b) is { } pattern) branches.Add(pattern);
                    else Leave(rule, $"the branch regular expression '{b}' has no Kaizen branch pattern equivalent");
                }
            }
            if (Child(promotion, "auto_promote") is YamlMappingNode auto && Child(auto, "when") is YamlScalarNode { Value: { } when } whenNode)
            {
                var found = AutoPromoteBranches(when);
                if (found is null) Leave(whenNode, "this auto_promote condition is not translated (Kaizen deploys automatically after a passed build of named branches); the server is manual");
                else branches.AddRange(found);
            }
            return branches.Count > 0 ? (TriggerMode.Automatic, string.Join(", ", branches.Distinct())) : (TriggerMode.Manual, "");
        }

        /// <summary>Branches of "branch = 'x' [or …] and result = 'passed'"; null when the condition says more than that.</summary>
        private static List<string>? AutoPromoteBranches(string when)
        {
            SemaphoreConditions.Expr expr;
            try { expr = SemaphoreConditions.Parse(when); }
            catch (FormatException) { return null; }
            var branches = new List<string>();
            var passed = false;
            bool Walk(SemaphoreConditions.Expr e, bool underOr)
            {
                switch (e)
                {
                    case SemaphoreConditions.Binary { Op: "and" } a when !underOr:
                        return Walk(a.Left, false) && Walk(a.Right, false);
                    case SemaphoreConditions.Binary { Op: "or" } o:
                        return Walk(o.Left, true) && Walk(o.Right, true);
                    case SemaphoreConditions.Term { Field: "result", Op: "=", Value: "passed" } when !underOr:
                        passed = true;
                        return true;
                    case SemaphoreConditions.Term { Field: "branch" } t when t.Op is "=" or "=~":
                        var pattern = t.Op == "=" ? t.Value : ServerBranch(t.Value);
                        if (pattern is null) return false;
                        branches.Add(pattern);
                        return true;
                    default:
                        return false;
                }
            }
            return Walk(expr, false) && passed && branches.Count > 0 ? branches : null;
        }

        /// <summary>A Semaphore branch (a name or a regular expression) as a server's branch pattern (names and '*').</summary>
        private static string? ServerBranch(string branch)
        {
            if (branch.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/')) return branch;
            var glob = SemaphoreConditions.RegexToGlob(branch);
            if (glob is null || glob.Contains('?')) return null;
            return glob.Replace("**", "*", StringComparison.Ordinal);
        }

        /// <summary>A promoted pipeline as one list of deploy commands: its jobs one after another, each with its global and
        /// task prologue, variables and epilogue. Its own promotions, conditions and parallelism are listed.</summary>
        private List<string> Flatten(PipelineFile file, string server)
        {
            var before = _file;
            _file = file;
            var root = file.Root;
            Unknown(root, "the pipeline", "version", "name", "agent", "blocks", "global_job_config", "promotions", "execution_time_limit",
                "fail_fast", "auto_cancel", "queue", "after_pipeline");
            Agent(root, $"the pipeline of server {server}");
            foreach (var key in new[] { "promotions", "fail_fast", "auto_cancel", "queue", "after_pipeline", "execution_time_limit" })
            {
                if (KeyNode(root, key) is { } k) Leave(k, $"{key} of a promoted pipeline is not translated (its server runs one deploy job)");
            }
            var global = Child(root, "global_job_config") as YamlMappingNode;
            if (global is not null)
            {
                Secret(global, $"server {server}");
                Agent(global, $"the pipeline of server {server}");
            }
            var commands = new List<string>();
            commands.AddRange(Exports(Env(Child(global, "env_vars"))));
            commands.AddRange(Commands(Child(Child(global, "prologue") as YamlMappingNode, "commands")));
            var jobCount = 0;
            foreach (var block in Maps(Child(root, "blocks")))
            {
                foreach (var key in new[] { "run", "skip", "dependencies", "execution_time_limit" })
                {
                    if (KeyNode(block, key) is { } k && key != "dependencies") Leave(k, $"a promoted pipeline's block {key} is not translated (its blocks run one after another)");
                }
                var task = Child(block, "task") as YamlMappingNode;
                if (task is null) continue;
                Secret(task, $"server {server}");
                Agent(task, $"the pipeline of server {server}");
                commands.AddRange(Exports(Env(Child(task, "env_vars"))));
                commands.AddRange(Commands(Child(Child(task, "prologue") as YamlMappingNode, "commands")));
                foreach (var job in Maps(Child(task, "jobs")))
                {
                    jobCount++;
                    foreach (var key in new[] { "matrix", "parallelism", "run", "skip" })
                    {
                        if (KeyNode(job, key) is { } k) Leave(k, $"a deploy job's {key} is not translated (a server runs its commands once)");
                    }
                    commands.AddRange(Exports(Env(Child(job, "env_vars"))));
                    commands.AddRange(Commands(Child(job, "commands")));
                }
                commands.AddRange(Epilogue(Child(task, "epilogue") as YamlMappingNode));
            }
            commands.AddRange(Epilogue(Child(global, "epilogue") as YamlMappingNode));
            if (jobCount > 1)
                Leave(root, $"the promoted pipeline has {jobCount} jobs; the server runs their commands one after another in one deploy job");
            _file = before;
            return commands;
        }

        private static IEnumerable<string> Exports(IReadOnlyDictionary<string, string>? env) =>
            (env ?? new Dictionary<string, string>()).Select(kv => $"export {kv.Key}='{kv.Value.Replace("'", "'\\''", StringComparison.Ordinal)}'");
    }
}
