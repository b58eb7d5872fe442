using Kaizen.Portal.Audit;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Projects;

namespace Kaizen.Portal.Secrets;

public enum ChangeStatus
{
    Created,
    Replaced,
    Deleted,

    /// <summary>The change is for admins: <see cref="Change.Error"/> says why and what to do.</summary>
    Forbidden,

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

    /// <summary>
    /// Why someone who is not an admin may not change the plain variables of <paramref name="scope"/> (null when they may):
    /// a guarded server's deploys (approvals, or admins only) receive its own variables, its project's and the
    /// organization's, and a variable can change what a command does (<c>PATH</c>, <c>BASH_ENV</c>, <c>SHELLOPTS</c>
    /// with <c>PS4</c>), so what reaches such a deploy is changed by admins alone.
    /// </summary>
    public async Task<string?> WhyOnlyAdminsAsync(VariableScope scope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        IEnumerable<ServerRow> guarded = scope.Kind switch
        {
            VariableScope.ServerKind => await servers.ServerAsync(scope.Id, ct) is { } server && DeployService.IsGuarded(server) ? [server] : [],
            VariableScope.ProjectKind => (await servers.ServersAsync(scope.Id, ct)).Where(DeployService.IsGuarded),
            _ => await servers.GuardedServersAsync(ct),
        };
        return guarded.FirstOrDefault() is { } first
            ? $"Only admins may change these variables: deploys to {first.Name} of project {first.ProjectSlug}, which needs approvals " +
              "or is for admins only, receive them. Ask an admin to make the change."
            : null;
    }

    /// <summary>Creates or replaces a plain variable; <paramref name="byAdmin"/>: whether the actor is an admin (see
    /// <see cref="WhyOnlyAdminsAsync"/>).</summary>
    public async Task<Change> SetVariableAsync(VariableScope scope, string target, string name, string? value, string actor,
        bool byAdmin, CancellationToken ct = default)
    {
        if (VariableRules.NameError(name) is { } nameError) return Invalid(nameError);
        if (!byAdmin && await WhyOnlyAdminsAsync(scope, ct) is { } denied) return new Change(ChangeStatus.Forbidden, denied);
        if (VariableRules.ValueError(value, secret: false, asFile: false) is { } valueError) return Invalid(valueError);

        var saved = await store.SetVariableAsync(scope, name, value!, actor, ct);
        if (saved == SaveResult.NameTaken) return new Change(ChangeStatus.NameTaken);
        // The value is not recorded: a variable may still be something people would rather not see in a log.
        await audit.RecordAsync(actor, AuditActions.VariableSet, $"{target}/variable:{name}",
            saved == SaveResult.Created ? "created" : "replaced", ct);
        return new Change(saved == SaveResult.Created ? ChangeStatus.Created : ChangeStatus.Replaced);
    }

    /// <summary>Deletes a secret (<paramref name="isSecret"/>) or a plain variable; <paramref name="byAdmin"/> as for
    /// <see cref="SetVariableAsync"/>.</summary>
    public async Task<Change> DeleteAsync(VariableScope scope, string target, string name, bool isSecret, string actor,
        bool byAdmin, CancellationToken ct = default)
    {
        if (!byAdmin && await WhyOnlyAdminsAsync(scope, ct) is { } denied) return new Change(ChangeStatus.Forbidden, denied);
        if (!await store.DeleteAsync(scope, name, isSecret, ct)) return new Change(ChangeStatus.NotFound);
        await audit.RecordAsync(actor, isSecret ? AuditActions.SecretDeleted : AuditActions.VariableDeleted,
            $"{target}/{(isSecret ? "secret" : "variable")}:{name}", null, ct);
        return new Change(ChangeStatus.Deleted);
    }

    private static Change Invalid(string message) => new(ChangeStatus.Invalid, message);
}
