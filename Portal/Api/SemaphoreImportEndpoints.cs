using System.Security.Claims;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Import.Semaphore;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Api;

/// <summary>An uploaded Semaphore pipeline: <see cref="Yaml"/> is <c>.semaphore/semaphore.yml</c>; <see cref="Files"/> the
/// other files of the <c>.semaphore</c> folder by name (<c>release.yml</c>), for the pipelines promotions point to.</summary>
public sealed record SemaphoreImportRequest(string? Yaml, IReadOnlyDictionary<string, string>? Files);

/// <summary>What an import makes (and, with apply, made): the settings, the servers, the secrets to define and what did
/// not translate. <see cref="Created"/>/<see cref="Skipped"/>: the servers created, and those not (a taken name).</summary>
public sealed record SemaphoreImportResponse(
    string Source,
    bool Applied,
    BuildSettings Settings,
    IReadOnlyList<ImportedServerResponse> Servers,
    IReadOnlyList<UntranslatedLine> Untranslated,
    IReadOnlyList<SecretToDefine> Secrets,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Created,
    IReadOnlyList<string> Skipped);

public sealed record ImportedServerResponse(string Name, IReadOnlyList<string> Commands, ServerTriggerResponse Trigger, string PipelineFile, int Line)
{
    public static ImportedServerResponse From(ImportedServer s) => new(s.Name, s.Commands, new ServerTriggerResponse(s.TriggerMode, s.Branch), s.PipelineFile, s.Line);
}

/// <summary>
/// <c>POST /api/v1/projects/{slug}/import/semaphore[?apply=true]</c>: translates the project's Semaphore pipeline (read from
/// the default branch in the portal's mirror, or uploaded) with <see cref="SemaphoreImporter"/>. A dry run by default; with
/// apply, the settings are saved through <see cref="BuildSettingsChanges"/> (checked and audited like every change) and
/// each promotion becomes a server through <see cref="DeployService"/>.
/// </summary>
public static class SemaphoreImportEndpoints
{
    public const string Source = SemaphoreApply.Source;

    public static IEndpointRouteBuilder MapSemaphoreImport(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireAuthorization().WithTags("Kaizen")
            .MapPost("/projects/{slug}/import/semaphore", Import).RequireAuthorization(ApiEndpoints.WritePolicy)
            .WithSummary("Translate .semaphore/semaphore.yml (of the default branch, or uploaded as { yaml, files }) into build settings and servers; ?apply=true saves them.");
        return app;
    }

    private static async Task<IResult> Import(string slug, SemaphoreImportRequest? body, ProjectStore projects, ProjectService projectService, Git.GitMirror git,
        BuildSettingsChanges changes, DeployService deploys, ClaimsPrincipal user, CancellationToken ct, bool apply = false)
    {
        var project = await projects.FindBySlugAsync(slug, ct);
        if (!ProjectAccess.CanRead(user, project)) return Results.Problem($"No project '{slug}'.", statusCode: 404);

        string source;
        string main;
        IReadOnlyDictionary<string, string> files;
        if (body is { Yaml: not null })
        {
            (source, main, files) = ("uploaded", body.Yaml, body.Files ?? new Dictionary<string, string>());
            var tooBig = files.Where(f => f.Value is null || f.Value.Length > SemaphoreImporter.MaxFileChars).Select(f => f.Key).FirstOrDefault();
            if (tooBig is not null)
                return Invalid([new ImportError(tooBig, 0, 0, $"the file is empty or larger than {SemaphoreImporter.MaxFileChars:N0} characters.")]);
        }
        else if (body is { Files.Count: > 0 })
        {
            return Results.Problem("Send the pipeline as \"yaml\" (the text of .semaphore/semaphore.yml) beside \"files\".", statusCode: 400);
        }
        else
        {
            var read = await SemaphoreSource.ReadAsync(project, projectService, git, ct);
            if (read.Error is not null) return Invalid([read.Error]);
            (source, main, files) = (read.Source, read.Main!, read.Files);
        }

        var result = SemaphoreImporter.Import(main, files);
        if (!result.Ok) return Invalid(result.Errors);

        var servers = result.Servers.Select(ImportedServerResponse.From).ToList();
        if (!apply)
            return Results.Ok(new SemaphoreImportResponse(source, false, result.Settings!, servers, result.Untranslated, result.Secrets, result.Problems, [], []));
        var applied = await SemaphoreApply.ApplyAsync(project, result, user, changes, deploys, ct);
        if (applied.Settings.InRepository) return Results.Problem(applied.Settings.Errors[0], statusCode: StatusCodes.Status409Conflict);
        if (!applied.Settings.Ok)
            return Results.ValidationProblem(SettingsErrors.ByPath("settings", applied.Settings.Errors), detail: string.Join("\n", applied.Settings.Errors));
        return Results.Ok(new SemaphoreImportResponse(source, true, applied.Settings.Saved!, servers, result.Untranslated, result.Secrets, result.Problems,
            applied.Created, applied.Skipped));
    }

    private static IResult Invalid(IReadOnlyList<ImportError> errors) => Results.ValidationProblem(
        new Dictionary<string, string[]> { ["yaml"] = [.. errors.Select(e => e.ToString())] },
        detail: string.Join("\n", errors.Select(e => e.ToString())));
}
