using Kaizen.Portal.Plugins;
using Kaizen.Portal.Projects;
using Kaizen.Sdk;

namespace Kaizen.Portal.Api;

public sealed record PluginResponse(string Id, string Name, string Version, string Author, string Description, string Status, string? Error);

public sealed record StackResponse(
    string PluginId, string Plugin, string Stack, string Directory, string Summary, string? Error,
    IReadOnlyList<JobSettingsResponse> Jobs, IReadOnlyList<CacheSpec> Caches, IReadOnlyList<ToolSpec> Tools);

public sealed record JobSettingsResponse(string Name, IReadOnlyList<string> Commands);

/// <summary>Plugins and the stacks they detect: GET /api/v1/plugins, GET and POST /api/v1/projects/{slug}/stacks.</summary>
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
        return app;
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
            s.Plan?.Caches ?? [], s.Plan?.Tools ?? [])));
    }

    private static async Task<IResult> Apply(string slug, ProjectStore projects, StackService stacks, CancellationToken ct)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        var applied = await stacks.ApplyAsync(project, ct);
        return applied.Ok ? Results.Ok(applied.Value) : applied.ToProblemResult();
    }
}
