using System.Security.Claims;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Plugins;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Kaizen.Sdk;

namespace Kaizen.Portal.Api;

public sealed record PluginResponse(string Id, string Name, string Version, string Author, string Description, string Status, string? Error);

public sealed record StackResponse(
    string PluginId, string Plugin, string Stack, string Directory, string Summary, string? Error,
    IReadOnlyList<JobSettingsResponse> Jobs, IReadOnlyList<CacheSpec> Caches, IReadOnlyList<ToolSpec> Tools)
{
    /// <summary>What to know before applying (a requirement that needs the package index, a pinned version).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

public sealed record JobSettingsResponse(string Name, IReadOnlyList<string> Commands);

public sealed record DeploySuggestionResponse(
    string PluginId, string Plugin, string Stack, string Directory, string? Error, IReadOnlyList<string> Commands,
    IReadOnlyList<string> RequiredVariables, IReadOnlyList<string> MissingVariables, bool SecretsCounted);

/// <summary>Plugins and the stacks they detect: GET /api/v1/plugins, GET and POST /api/v1/projects/{slug}/stacks,
/// GET /api/v1/projects/{slug}/deploy-suggestions.</summary>
public static class PluginEndpoints
{
    public static IEndpointRouteBuilder MapPluginApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Plugins");
        api.MapGet("/plugins", (PluginHost host) => Results.Ok(host.Plugins.Select(p =>
                new PluginResponse(p.Id, p.Name, p.Version, p.Author, p.Description, p.Status, p.Error))))
            .WithSummary("Every plugin of plugins.json with its status (loaded, disabled, failed) and the reason of a failure.");
        api.MapGet("/projects/{slug}/stacks", Stacks)
            .WithSummary("The stacks detected at the default branch's head, with the jobs, caches and tools their plugins suggest.");
        api.MapPost("/projects/{slug}/stacks/apply", Apply).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Adds the suggested jobs to the build settings (jobs already there by name are left alone).");
        api.MapGet("/projects/{slug}/deploy-suggestions", DeploySuggestions)
            .WithSummary("Deploy commands the detected stacks' plugins suggest for a server (?server=production), with the " +
                         "variables they need and which of those the server's environment lacks.");
        return app;
    }

    private static async Task<IResult> DeploySuggestions(string slug, string? server, ProjectStore projects, DeployStore servers,
        VariableStore variables, StackService stacks, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        if (string.IsNullOrWhiteSpace(server)) return Results.Problem("Say which server: ?server=production.", statusCode: 400);
        var withSecrets = MaySeeSecretNames(user);
        var names = await EnvironmentNamesAsync(project.Id, await servers.FindServerAsync(project.Id, server.Trim(), ct), variables,
            withSecrets, ct);
        var planned = await stacks.PlanDeploysAsync(project, server.Trim(), names, ct);
        if (!planned.Ok) return planned.ToProblemResult();
        return Results.Ok(planned.Value!.Select(s => new DeploySuggestionResponse(
            s.Stack.PluginId, s.PluginName, s.Stack.Stack, s.Stack.Directory, s.Error, s.Commands, s.RequiredVariables, s.MissingVariables,
            withSecrets)));
    }

    /// <summary>Only admins see secret names (DESIGN: not even a secret's existence leaks to anyone else).</summary>
    public static bool MaySeeSecretNames(ClaimsPrincipal? user) => user?.IsInRole(Auth.Roles.Admin) == true;

    /// <summary>The names (never values) of everything a deploy to the server would get: the organization's, the
    /// project's and, for an existing server, its own variables and, when <paramref name="withSecrets"/> (for admins),
    /// secrets. Plugins plan with these names and "missing" is measured against them, so for anyone else the
    /// suggestion is the same whether or not a secret of some name exists.</summary>
    public static async Task<IReadOnlyCollection<string>> EnvironmentNamesAsync(long projectId, ServerRow? server, VariableStore store,
        bool withSecrets, CancellationToken ct)
    {
        var scopes = new List<VariableScope> { VariableScope.Org, VariableScope.Project(projectId) };
        if (server is not null) scopes.Add(VariableScope.Server(server.Id));
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var scope in scopes)
        {
            foreach (var v in await store.VariablesAsync(scope, ct)) names.Add(v.Name);
            if (!withSecrets) continue;
            foreach (var s in await store.SecretsAsync(scope, ct)) names.Add(s.Name);
        }
        return names;
    }

    private static async Task<IResult> Stacks(string slug, ProjectStore projects, StackService stacks, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        var detected = await stacks.DetectAsync(project, ct);
        if (!detected.Ok) return detected.ToProblemResult();
        return Results.Ok(detected.Value!.Select(s => new StackResponse(
            s.Stack.PluginId, s.PluginName, s.Stack.Stack, s.Stack.Directory, s.Stack.Summary, s.Error,
            s.Jobs.Select(j => new JobSettingsResponse(j.Name, j.Commands)).ToList(),
            s.Plan?.Caches ?? [], s.Plan?.Tools ?? []) { Notes = s.Plan?.Notes ?? [] }));
    }

    private static async Task<IResult> Apply(string slug, ProjectStore projects, StackService stacks, ClaimsPrincipal user,
        CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        var applied = await stacks.ApplyAsync(project, user, ct);
        return applied.Ok ? Results.Ok(applied.Value) : applied.ToProblemResult();
    }
}
