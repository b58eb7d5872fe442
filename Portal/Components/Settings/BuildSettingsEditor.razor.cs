using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Settings;

/// <summary>
/// Edits a project's build settings (setup, jobs, epilogue) and saves them through <see cref="ProjectStore"/>.
/// Self-contained: host it anywhere with <c>&lt;BuildSettingsEditor Project="project" /&gt;</c>. Everything typed
/// stays in the editor until it is saved or discarded, including while it fails validation; people without the
/// write role see the settings read-only.
/// </summary>
public sealed partial class BuildSettingsEditor : IDisposable
{
    [Inject] private ProjectStore Projects { get; set; } = default!;
    [Inject] private BuildSettingsChanges Changes { get; set; } = default!;
    [Inject] private LiveUpdates Live { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private IAuthorizationService Authorization { get; set; } = default!;
    [Inject] private SettingsSourceStore Sources { get; set; } = default!;

    /// <summary>The project whose settings are edited. Passing a newer row of the same project (after someone
    /// saved) refreshes the editor when it has no unsaved changes, and warns when it has.</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = default!;

    /// <summary>Raised after the settings were saved, with what was saved.</summary>
    [Parameter] public EventCallback<BuildSettings> OnSaved { get; set; }

    [CascadingParameter] private Task<AuthenticationState>? AuthenticationState { get; set; }

    private BuildSettingsDraft _draft = new();
    private BuildSettings _saved = BuildSettings.Empty;
    private long? _projectId;
    private bool _canWrite;

    // Settings kept in the repository are read-only here (_canWrite false) while the person may still move them (_mayWrite).
    private bool _mayWrite;
    private bool _inRepository;

    // The YAML the settings were imported from and the text stored with its comments: exported as written while it says the same.
    private string? _importedYaml;
    private string? _storedYaml;
    private bool _saving;
    private bool _changedElsewhere;
    private string? _saveError;
    private Guid? _focus;
    private IDisposable? _subscription;

    private bool IsDirty => !_draft.Matches(_saved);
    private DraftProblems Problems { get; set; } = new();
    private bool CanSave => _canWrite && IsDirty && !Problems.Any && !_saving;

    protected override async Task OnParametersSetAsync()
    {
        ArgumentNullException.ThrowIfNull(Project);
        if (_projectId != Project.Id)
        {
            _projectId = Project.Id;
            _subscription?.Dispose();
            _subscription = null;
            Load(Project.Settings);
            _mayWrite = await CanWriteAsync();
            _canWrite = _mayWrite && !_inRepository;
            _storedYaml = (await Sources.GetAsync(Project.Id)).Yaml;
        }
        else
        {
            Refresh(Project.Settings);
        }
    }

    protected override void OnAfterRender(bool firstRender)
    {
        _subscription ??= Live.Subscribe(LiveUpdates.Keys.Project(Project.Id), OnProjectChangedAsync);
        _focus = null;
    }

    private async Task<bool> CanWriteAsync()
    {
        if (AuthenticationState is null) return false;
        var user = (await AuthenticationState).User;
        return (await Authorization.AuthorizeAsync(user, ApiEndpoints.WritePolicy)).Succeeded;
    }

    private void Load(BuildSettings settings)
    {
        _saved = settings;
        _draft = BuildSettingsDraft.From(settings);
        _changedElsewhere = false;
        _saveError = null;
        Recheck();
    }

    /// <summary>Someone (maybe this editor) saved: follow along unless that would throw away what is typed here.</summary>
    private void Refresh(BuildSettings latest)
    {
        if (BuildSettingsDraft.SameSettings(latest, _saved)) return;
        if (IsDirty)
        {
            _saved = latest;
            _changedElsewhere = !_draft.Matches(latest);
        }
        else
        {
            Load(latest);
        }
    }

    private async Task OnProjectChangedAsync()
    {
        var project = await Projects.FindBySlugAsync(Project.Slug);
        if (project is null || project.Id != _projectId) return;
        await InvokeAsync(() =>
        {
            Refresh(project.Settings);
            StateHasChanged();
        });
    }

    private void Recheck() => Problems = _draft.Validate();

    private Task ChangedAsync(CommandDraft? added)
    {
        _focus = added?.Key;
        Recheck();
        return Task.CompletedTask;
    }

    private Task RenameAsync(JobDraft job, string? name)
    {
        job.Name = name ?? "";
        Recheck();
        return Task.CompletedTask;
    }

    private const string ServicesExample = "- image: postgres:16\n  alias: db\n  env: { POSTGRES_PASSWORD: test }\n  ready: \"5432\"";

    private Task SetImageAsync(string? image)
    {
        _draft.Image = image ?? "";
        Recheck();
        return Task.CompletedTask;
    }

    private Task SetJobImageAsync(JobDraft job, string? image)
    {
        job.Image = image ?? "";
        Recheck();
        return Task.CompletedTask;
    }

    private Task SetServicesAsync(JobDraft job, string? services)
    {
        job.Services = services ?? "";
        Recheck();
        return Task.CompletedTask;
    }

    private Task SetReportsAsync(JobDraft job, string? globs, bool coverage)
    {
        if (coverage) job.Coverage = globs ?? "";
        else job.TestReports = globs ?? "";
        Recheck();
        return Task.CompletedTask;
    }

    private Task AddJobAsync()
    {
        var job = new JobDraft("", [""]);
        _draft.Jobs.Add(job);
        _focus = job.Key;
        Recheck();
        return Task.CompletedTask;
    }

    private Task MoveJobAsync(int index, int delta)
    {
        if (BuildSettingsDraft.Move(_draft.Jobs, index, delta)) Recheck();
        return Task.CompletedTask;
    }

    private Task RemoveJobAsync(int index)
    {
        var job = _draft.Jobs[index];
        _draft.Jobs.RemoveAt(index);
        Recheck();
        Snackbar.Add($"Removed {BuildSettingsDraft.DescribeJob(job, index)}. \"Discard changes\" brings it back.", Severity.Info);
        return Task.CompletedTask;
    }

    private void Discard()
    {
        Load(_saved);
        Snackbar.Add("Changes discarded.", Severity.Info);
    }

    private async Task SaveAsync()
    {
        Recheck();
        if (!_canWrite || _saving) return;
        var settings = _draft.ToSettings();
        // The draft's checks mirror BuildSettings.Validate; asking it too keeps the editor and the API in step.
        if (Problems.Any)
        {
            Snackbar.Add($"Not saved: {Problems.Summary[0]}", Severity.Error);
            return;
        }
        _saving = true;
        _saveError = null;
        try
        {
            // The same checks, save and audit as the API (run-script lines naming unknown scripts are refused too).
            var user = AuthenticationState is null ? null : (await AuthenticationState).User;
            var saved = await Changes.SaveAsync(Project, settings, user, SettingsSources.Editor);
            if (!saved.Ok)
            {
                Snackbar.Add($"Not saved: {saved.Errors[0]}", Severity.Error);
                return;
            }
            settings = saved.Saved!;
            if (_importedYaml is { } text && BuildSettingsYaml.FromYaml(text).Settings is { } imported
                && SettingsSourceStore.SameSettings(imported, settings))
            {
                await Sources.SetYamlAsync(Project.Id, text);
                _storedYaml = text;
            }
            _importedYaml = null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _saveError = $"The settings could not be saved: {e.Message}.";
            return;
        }
        finally
        {
            _saving = false;
        }
        _saved = settings;
        _changedElsewhere = false;
        Snackbar.Add("Build settings saved.", Severity.Success);
        await OnSaved.InvokeAsync(settings);
    }

    private async Task ExportAsync()
    {
        var parameters = new DialogParameters<SettingsYamlExportDialog>
        {
            { d => d.Yaml, SettingsSourceStore.Export(_draft.ToSettings(), _storedYaml) },
            { d => d.FileName, $"{Project.Slug}-build-settings.yaml" },
            { d => d.Unsaved, IsDirty },
        };
        await Dialogs.ShowAsync<SettingsYamlExportDialog>("Build settings as YAML", parameters,
            new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseOnEscapeKey = true });
    }

    private async Task ImportAsync()
    {
        var dialog = await Dialogs.ShowAsync<SettingsYamlImportDialog>("Import YAML",
            new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, CloseOnEscapeKey = true });
        var result = await dialog.Result;
        if (result is not { Canceled: false, Data: ImportedYaml imported }) return;
        _draft = BuildSettingsDraft.From(imported.Settings);
        _importedYaml = imported.Text;
        Recheck();
        Snackbar.Add(IsDirty ? "Imported. Review the settings and press Save to keep them." : "Imported: same as the saved settings.",
            Severity.Info);
    }

    private void InRepositoryChanged(bool inRepository)
    {
        _inRepository = inRepository;
        _canWrite = _mayWrite && !inRepository;
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    public void Dispose() => _subscription?.Dispose();
}
