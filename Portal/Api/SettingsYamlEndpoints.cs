using System.Security.Claims;
using System.Text;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

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
            .WithSummary("Replace the project's build settings with YAML (setup, jobs, epilogue); 400 lists what to fix.");
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

    private static async Task<IResult> GetYaml(string slug, ProjectStore store, CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        return project is null
            ? Results.Problem($"No project '{slug}'.", statusCode: 404)
            : Results.Text(BuildSettingsYaml.ToYaml(project.Settings), ContentType, Encoding.UTF8);
    }

    private static async Task<IResult> PutYaml(string slug, HttpRequest request, ProjectStore store, BuildSettingsChanges changes,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var project = await store.FindBySlugAsync(slug, ct);
        if (project is null) return Results.Problem($"No project '{slug}'.", statusCode: 404);

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxBodyChars + 1];
        var length = await reader.ReadBlockAsync(buffer, ct);
        if (length > MaxBodyChars)
            return Results.Problem("The YAML is larger than 1 MB; build settings are much smaller.", statusCode: 413);

        var (parsed, errors) = BuildSettingsYaml.FromYaml(new string(buffer, 0, length));
        if (parsed is null) return Invalid("yaml", errors);
        var saved = await changes.SaveAsync(project, parsed, user, SettingsSources.Yaml, ct);
        return saved.Ok
            ? Results.Text(BuildSettingsYaml.ToYaml(saved.Saved!), ContentType, Encoding.UTF8)
            : Invalid("settings", saved.Errors);
    }

    private static IResult Invalid(string field, IReadOnlyList<string> errors) =>
        Results.ValidationProblem(SettingsErrors.ByPath(field, errors), detail: string.Join("\n", errors));
}
