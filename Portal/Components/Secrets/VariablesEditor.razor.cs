using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Secrets;

/// <summary>
/// The variables and secrets of one scope (the organization, a project, a server). Anyone signed in sees the plain
/// variables; admins and members add, replace and delete them. Only admins see the secrets section at all, and even
/// they see names, kinds and who changed them when, never a value: a secret is typed into a password field, saved,
/// and the field is cleared. Every change goes through <see cref="VariableChanges"/> (the same rules and audit
/// entries as the API). Host it anywhere with <c>&lt;VariablesEditor Scope="VariableScope.Org" /&gt;</c>.
/// </summary>
public sealed partial class VariablesEditor
{
    [Inject] private VariableStore Store { get; set; } = default!;
    [Inject] private VariableChanges Changes { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;

    /// <summary>Whose variables and secrets are edited: <see cref="VariableScope.Org"/>, a project's or a server's.</summary>
    [Parameter, EditorRequired] public VariableScope Scope { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    private VariableScope? _loadedScope;
    private bool _loading = true;
    private bool _isAdmin;
    private bool _canWrite;
    private string _actor = AuditLog.System;
    private string _target = "";
    private IReadOnlyList<VariableInfo> _variables = [];
    private IReadOnlyList<SecretInfo> _secrets = [];

    // A project's jobs also get the organization's values, unless the project has one of the same name.
    private bool _inheritsFromOrg;
    private IReadOnlyList<VariableInfo> _orgVariables = [];
    private IReadOnlyList<SecretInfo> _orgSecrets = [];

    private string _variableName = "";
    private string _variableValue = "";
    /// <summary>Why a member may not change these variables here (guarded deploys receive them), or null.</summary>
    private string? _onlyAdmins;
    private string? _variableNameError;
    private string? _variableError;
    private bool _savingVariable;

    private string _secretName = "";
    private string _secretValue = "";
    private string _secretFile = "";
    private string? _secretNameError;
    private string? _secretValueError;
    private string? _secretFileError;
    private string? _secretError;
    private bool _savingSecret;

    protected override async Task OnParametersSetAsync()
    {
        ArgumentNullException.ThrowIfNull(Scope);
        if (Scope == _loadedScope) return;
        _loadedScope = Scope;
        _loading = true;
        var user = AuthenticationState is null ? null : (await AuthenticationState).User;
        _isAdmin = user?.IsInRole(Roles.Admin) == true;
        _canWrite = _isAdmin || user?.IsInRole(Roles.Member) == true;
        _onlyAdmins = _canWrite && !_isAdmin ? await Changes.WhyOnlyAdminsAsync(Scope) : null;
        if (_onlyAdmins is not null) _canWrite = false;
        _actor = AuditLog.ActorOf(user);
        _target = await Changes.TargetAsync(Scope);
        await ReloadAsync();
        _loading = false;
    }

    private async Task ReloadAsync()
    {
        _variables = await Store.VariablesAsync(Scope);
        // Secrets are not even listed for anyone but admins: their names are not for everyone to know.
        _secrets = _isAdmin ? await Store.SecretsAsync(Scope) : [];
        _inheritsFromOrg = Scope.Kind == VariableScope.ProjectKind;
        if (!_inheritsFromOrg) return;
        _orgVariables = await Store.VariablesAsync(VariableScope.Org);
        // Like the project's own: only admins learn which secrets the organization has, and never their values.
        _orgSecrets = _isAdmin ? await Store.SecretsAsync(VariableScope.Org) : [];
    }

    // Names compare without case, as jobs get them (JobEnvironmentProvider): the project's value wins, whatever its kind.
    private bool IsOverridden(string name) =>
        _variables.Any(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))
        || _secrets.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Starts a project variable of the organization variable's name and value, to change and save.</summary>
    private void OverrideVariable(VariableInfo inherited)
    {
        _variableName = inherited.Name;
        _variableValue = inherited.Value;
        _variableNameError = _variableError = null;
    }

    /// <summary>Starts a project secret of the organization secret's name; its value is typed anew (it is never shown).</summary>
    private void OverrideSecret(SecretInfo inherited)
    {
        _secretName = inherited.Name;
        _secretFile = inherited.FilePath ?? "";
        _secretValue = "";
        _secretNameError = _secretValueError = _secretFileError = _secretError = null;
    }

    private void EditVariable(VariableInfo variable)
    {
        _variableName = variable.Name;
        _variableValue = variable.Value;
        _variableNameError = _variableError = null;
    }

    private async Task SaveVariableAsync()
    {
        if (!_canWrite || _savingVariable) return;
        var name = _variableName.Trim();
        _variableNameError = VariableRules.NameError(name);
        _variableError = null;
        if (_variableNameError is not null) return;
        _savingVariable = true;
        try
        {
            var change = await Changes.SetVariableAsync(Scope, _target, name, _variableValue, _actor, _isAdmin);
            switch (change.Status)
            {
                case ChangeStatus.Invalid or ChangeStatus.Forbidden:
                    _variableError = change.Error;
                    return;
                case ChangeStatus.NameTaken:
                    // Only admins see secret names: others learn what to do, not that a secret of that name exists.
                    _variableNameError = _isAdmin
                        ? $"'{name}' is already the name of a secret here; choose another name."
                        : $"'{name}' is not available for a variable here; choose another name.";
                    return;
            }
            Snackbar.Add($"Variable {name} {(change.Status == ChangeStatus.Created ? "added" : "replaced")}.", Severity.Success);
            _variableName = _variableValue = "";
            await ReloadAsync();
        }
        finally
        {
            _savingVariable = false;
        }
    }

    private void ReplaceSecret(SecretInfo secret)
    {
        _secretName = secret.Name;
        _secretFile = secret.FilePath ?? "";
        _secretValue = "";
        _secretNameError = _secretValueError = _secretFileError = _secretError = null;
    }

    private async Task SaveSecretAsync()
    {
        if (!_isAdmin || _savingSecret) return;
        var name = _secretName.Trim();
        var file = _secretFile.Trim();
        _secretNameError = VariableRules.NameError(name);
        _secretFileError = file.Length == 0 ? null : VariableRules.FilePathError(file);
        _secretValueError = VariableRules.ValueError(_secretValue, secret: true, asFile: file.Length > 0);
        _secretError = null;
        if (_secretNameError is not null || _secretFileError is not null || _secretValueError is not null) return;
        _savingSecret = true;
        try
        {
            var change = await Changes.SetSecretAsync(Scope, _target, name, _secretValue, file, _actor);
            switch (change.Status)
            {
                case ChangeStatus.Invalid:
                    _secretError = change.Error;
                    return;
                case ChangeStatus.NameTaken:
                    _secretNameError = $"'{name}' is already the name of a variable here; delete it first or choose another name.";
                    return;
            }
            // Write-only: the value leaves the page the moment it is saved.
            _secretValue = "";
            _secretName = _secretFile = "";
            Snackbar.Add($"Secret {name} {(change.Status == ChangeStatus.Created ? "saved" : "replaced")}.", Severity.Success);
            await ReloadAsync();
        }
        finally
        {
            _savingSecret = false;
        }
    }

    private Task DeleteVariableAsync(VariableInfo variable) => DeleteAsync(variable.Name, isSecret: false);

    private Task DeleteSecretAsync(SecretInfo secret) => DeleteAsync(secret.Name, isSecret: true);

    private async Task DeleteAsync(string name, bool isSecret)
    {
        if (isSecret ? !_isAdmin : !_canWrite) return;
        var kind = isSecret ? "secret" : "variable";
        var confirmed = await Dialogs.ShowMessageBoxAsync($"Delete {kind} {name}?",
            isSecret ? "Jobs will no longer get this secret, and its value cannot be recovered." : "Jobs will no longer get this variable.",
            yesText: "Delete", cancelText: "Cancel");
        if (confirmed != true) return;
        var change = await Changes.DeleteAsync(Scope, _target, name, isSecret, _actor, _isAdmin);
        Snackbar.Add(change.Ok ? $"{(isSecret ? "Secret" : "Variable")} {name} deleted."
            : change.Status == ChangeStatus.Forbidden ? change.Error! : $"There is no {kind} {name} any more.",
            change.Ok ? Severity.Success : change.Status == ChangeStatus.Forbidden ? Severity.Warning : Severity.Info);
        await ReloadAsync();
    }
}
