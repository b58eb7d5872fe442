using Kaizen.Portal.Audit;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Secrets;

public enum ChangeStatus
{
    Created,
    Replaced,
    Deleted,

    /// <summary>A name, value or file path broke a <see cref="VariableRules"/> rule; <see cref="Change.Error"/> says which.</summary>
    Invalid,

    /// <summary>The name is taken in that scope by the other kind (a variable for a secret, or the reverse).</summary>
    NameTaken,

    /// <summary>Nothing of that name and kind to delete.</summary>
    NotFound,
}

/// <summary>What a change did, or why it did nothing (<see cref="Error"/> is set for <see cref="ChangeStatus.Invalid"/>).</summary>
public sealed record Change(ChangeStatus Status, string? Error = null)
{
    public bool Ok => Status is ChangeStatus.Created or ChangeStatus.Replaced or ChangeStatus.Deleted;
}

/// <summary>
/// Every change to variables and secrets, from the API and from the pages alike: checks the <see cref="VariableRules"/>,
/// saves through <see cref="VariableStore"/> and records it in the <see cref="AuditLog"/> (never with a value).
/// An audit <c>target</c> names the scope the way people read it: <c>org</c>, <c>project:web</c>, <c>project:web/server:staging</c>.
/// </summary>
public sealed class VariableChanges(VariableStore store, AuditLog audit, ProjectStore projects, DeployStore servers)
{
    /// <summary>How the audit log names <paramref name="scope"/> (a project by its slug).</summary>
    public async Task<string> TargetAsync(VariableScope scope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        switch (scope.Kind)
        {
            case VariableScope.OrgKind:
                return "org";
            case VariableScope.ProjectKind:
                var project = (await projects.ListAsync(ct)).FirstOrDefault(p => p.Id == scope.Id);
                return project is null ? $"project:{scope.Id}" : ProjectTarget(project.Slug);
            case VariableScope.ServerKind:
                var server = await servers.ServerAsync(scope.Id, ct);
                return server is null ? $"server:{scope.Id}" : DeployService.ServerTarget(server.ProjectSlug, server.Name);
            default:
                return $"{scope.Kind}:{scope.Id}";
        }
    }

    public static string ProjectTarget(string slug) => $"project:{slug}";

    /// <summary>Creates or replaces a secret (as a file in the job when <paramref name="filePath"/> is not empty).</summary>
    public async Task<Change> SetSecretAsync(VariableScope scope, string target, string name, string? value, string? filePath,
        string actor, CancellationToken ct = default)
    {
        if (VariableRules.NameError(name) is { } nameError) return Invalid(nameError);
        var file = string.IsNullOrEmpty(filePath) ? null : filePath;
        if (file is not null && VariableRules.FilePathError(file) is { } fileError) return Invalid(fileError);
        if (VariableRules.ValueError(value, secret: true, asFile: file is not null) is { } valueError) return Invalid(valueError);

        var saved = await store.SetSecretAsync(scope, name, value!, file, actor, ct);
        if (saved == SaveResult.NameTaken) return new Change(ChangeStatus.NameTaken);
        await audit.RecordAsync(actor, saved == SaveResult.Created ? AuditActions.SecretCreated : AuditActions.SecretReplaced,
            $"{target}/secret:{name}", file is null ? "environment variable" : $"file {file}", ct);
        return new Change(saved == SaveResult.Created ? ChangeStatus.Created : ChangeStatus.Replaced);
    }

    /// <summary>Creates or replaces a plain variable.</summary>
    public async Task<Change> SetVariableAsync(VariableScope scope, string target, string name, string? value, string actor,
        CancellationToken ct = default)
    {
        if (VariableRules.NameError(name) is { } nameError) return Invalid(nameError);
        if (VariableRules.ValueError(value, secret: false, asFile: false) is { } valueError) return Invalid(valueError);

        var saved = await store.SetVariableAsync(scope, name, value!, actor, ct);
        if (saved == SaveResult.NameTaken) return new Change(ChangeStatus.NameTaken);
        // The value is not recorded: a variable may still be something people would rather not see in a log.
        await audit.RecordAsync(actor, AuditActions.VariableSet, $"{target}/variable:{name}",
            saved == SaveResult.Created ? "created" : "replaced", ct);
        return new Change(saved == SaveResult.Created ? ChangeStatus.Created : ChangeStatus.Replaced);
    }

    /// <summary>Deletes a secret (<paramref name="isSecret"/>) or a plain variable.</summary>
    public async Task<Change> DeleteAsync(VariableScope scope, string target, string name, bool isSecret, string actor,
        CancellationToken ct = default)
    {
        if (!await store.DeleteAsync(scope, name, isSecret, ct)) return new Change(ChangeStatus.NotFound);
        await audit.RecordAsync(actor, isSecret ? AuditActions.SecretDeleted : AuditActions.VariableDeleted,
            $"{target}/{(isSecret ? "secret" : "variable")}:{name}", null, ct);
        return new Change(ChangeStatus.Deleted);
    }

    private static Change Invalid(string message) => new(ChangeStatus.Invalid, message);
}
