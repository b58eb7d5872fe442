using System.Security.Claims;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>Where a project's settings live (<see cref="SettingsLocations"/>): "portal" or "repository".</summary>
public sealed record SettingsSourceRequest(string? Source);

/// <summary>Where a project's settings live and, in repository mode, the default branch's file now: its text, what is wrong
/// with it (empty when builds can use it), and a page to edit it on GitHub-like hosts.</summary>
public sealed record SettingsSourceResponse(string Source, string File, string DefaultBranch, string? EditUrl, string? Yaml,
    IReadOnlyList<string> Errors);

/// <summary>A project's build settings as YAML (<see cref="BuildSettingsYaml"/>), beside the JSON form of <see cref="ApiEndpoints"/>.</summary>
public static class SettingsYamlEndpoints
{
    public const string ContentType = "text/yaml";

    /// <summary>Settings are a few kilobytes; anything far larger is a mistake, not settings.</summary>
    private const int MaxBodyChars = 1024 * 1024;

    public static IEndpointRouteBuilder MapSettingsYaml(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Kaizen");
        api.MapGet("/projects/{slug}/settings.yaml", GetYaml)
            .WithSummary("The project's build settings as YAML.");
        api.MapPut("/projects/{slug}/settings.yaml", PutYaml).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Replace the project's build settings with YAML (setup, jobs, epilogue); 400 lists what to fix. " +
                "The text is kept with its comments and exported as sent while the settings stay the same.");
        api.MapGet("/projects/{slug}/settings/source", GetSource)
            .WithSummary("Where the build settings live: { source: \"portal\" | \"repository\", file, editUrl, yaml, errors }.");
        api.MapPut("/projects/{slug}/settings/source", PutSource).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Keep the build settings in the portal or in the repository's .kaizen.yml: { source: \"portal\" | \"repository\" }.");
        // Editors validate settings files with it, so anyone may read it (it says nothing about any project).
        app.MapGet(SchemaPath, GetSchema).AllowAnonymous().WithTags("Kaizen")
            .WithSummary("The JSON Schema of the build settings document (JSON and YAML alike).");
        return app;
    }

    /// <summary>Where the settings' JSON Schema is served (the file is docs/schemas/kaizen-settings.json).</summary>
    public const string SchemaPath = "/schemas/kaizen-settings.json";

    private static IResult GetSchema()
    {
        var stream = typeof(SettingsYamlEndpoints).Assembly.GetManifestResourceStream("kaizen-settings.json");
        return stream is null ? Results.NotFound() : Results.Stream(stream, "application/schema+json");
    }

    /// <summary>The settings as YAML: in repository mode the default branch's file as it is written; otherwise the text last
    /// saved as YAML (comments kept) while it says the same as the stored settings, else the settings written out with its
    /// comments carried over.</summary>
    private static async Task<IResult> GetYaml(string slug, ProjectStore store, SettingsSourceStore sources, RepositorySettings repository,
        CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        var source = await sources.GetAsync(project.Id, ct);
        if (source.InRepository && (await repository.ReadDefaultBranchAsync(project, ct)).Yaml is { } file)
            return Results.Text(file, ContentType, Encoding.UTF8);
        return Results.Text(SettingsSourceStore.Export(project.Settings, source.Yaml), ContentType, Encoding.UTF8);
    }

    private static async Task<IResult> PutYaml(string slug, HttpRequest request, ProjectStore store, BuildSettingsChanges changes,
        SettingsSourceStore sources, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        if ((await sources.GetAsync(project.Id, ct)).InRepository)
            return Results.Problem(BuildSettingsChanges.InRepositoryMessage(slug), statusCode: 409);

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxBodyChars + 1];
        var length = await reader.ReadBlockAsync(buffer, ct);
        if (length > MaxBodyChars)
            return Results.Problem("The YAML is larger than 1 MB; build settings are much smaller.", statusCode: 413);

        var text = new string(buffer, 0, length);
        var (parsed, errors) = BuildSettingsYaml.FromYaml(text);
        if (parsed is null) return Invalid("yaml", errors);
        var saved = await changes.SaveAsync(project, parsed, user, SettingsSources.Yaml, ct);
        if (!saved.Ok) return Invalid("settings", saved.Errors);
        // The text as sent, comments and layout included, is what the export gives back while the settings stay the same.
        await sources.SetYamlAsync(project.Id, text, ct);
        return Results.Text(SettingsSourceStore.Export(saved.Saved!, text), ContentType, Encoding.UTF8);
    }

    private static async Task<IResult> GetSource(string slug, ProjectStore store, SettingsSourceStore sources, RepositorySettings repository,
        CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        return Results.Ok(await DescribeAsync(project, (await sources.GetAsync(project.Id, ct)).Source, repository, ct));
    }

    private static async Task<IResult> PutSource(string slug, SettingsSourceRequest? body, ProjectStore store, SettingsSourceChanges changes,
        RepositorySettings repository, ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);
        if (await changes.ChangeAsync(project, body?.Source, user, ct) is { } problem)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["source"] = [problem] }, detail: problem);
        return Results.Ok(await DescribeAsync(project, body!.Source!.Trim().ToLowerInvariant(), repository, ct));
    }

    private static async Task<SettingsSourceResponse> DescribeAsync(ProjectRow project, string source, RepositorySettings repository,
        CancellationToken ct)
    {
        if (source != SettingsLocations.Repository)
            return new SettingsSourceResponse(source, SettingsLocations.FileName, project.DefaultBranch, null, null, []);
        var read = await repository.ReadDefaultBranchAsync(project, ct);
        return new SettingsSourceResponse(source, SettingsLocations.FileName, project.DefaultBranch, RepositorySettings.EditUrl(project),
            read.Yaml, read.Errors);
    }

    private static IResult Invalid(string field, IReadOnlyList<string> errors) =>
        Results.ValidationProblem(SettingsErrors.ByPath(field, errors), detail: string.Join("\n", errors));
}
