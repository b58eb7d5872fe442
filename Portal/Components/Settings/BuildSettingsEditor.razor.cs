using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Kaizen.Portal.Components.Settings;

/// <summary>
/// Edits a project's build settings (setup, pipeline options, jobs or blocks, epilogue, image) and saves them through <see cref="ProjectStore"/>.
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
    [Inject] private Kaizen.Portal.Scripts.ScriptLibrary Scripts { get; set; } = default!;

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

    // A text applied in Edit YAML that differs only in comments or layout is a change too: Save keeps the text.
    private bool _yamlTextEdited;
    private bool IsDirty => !_draft.Matches(_saved) || (_importedYaml is not null && _yamlTextEdited);
    private DraftProblems Problems { get; set; } = new();

    // Fields show their problems once they were changed or left, and every field after a Save: a form just opened or a
    // job just added is not red before anyone typed in it.
    private readonly HashSet<object> _touched = [];
    private bool _submitted;
    private DraftProblems Shown => _submitted ? Problems : Problems.Only(_touched.Contains);

    // What the library said about run-script lines at the last Save, per command and the text it was said of: shown on
    // the command's field until its text changes.
    private readonly Dictionary<CommandDraft, (string Text, string Problem)> _scriptProblems = [];

    // Problems the save itself reported that belong to no field of the form (settings with blocks, say).
    private IReadOnlyList<string> _serverErrors = [];

    private bool CanSave => _canWrite && IsDirty && !_saving;

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
        _importedYaml = null;
        _changedElsewhere = false;
        _saveError = null;
        _touched.Clear();
        _submitted = false;
        _scriptProblems.Clear();
        _serverErrors = [];
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

    private void Recheck()
    {
        Problems = _draft.Validate();
        foreach (var (command, where) in _draft.LocatedCommands())
        {
            if (!_scriptProblems.TryGetValue(command, out var said) || said.Text != command.Text || Problems.Commands.ContainsKey(command)) continue;
            Problems.Commands[command] = said.Problem;
            Problems.Summary.Add($"{where}: {said.Problem}");
        }
    }

    private void Touch(object field) => _touched.Add(field);

    private Task TouchedAsync(CommandDraft command)
    {
        Touch(command);
        return Task.CompletedTask;
    }

    private Task TouchAnyAsync(object field)
    {
        Touch(field);
        return Task.CompletedTask;
    }

    private Task ChangedAsync(CommandDraft? added)
    {
        _focus = added?.Key;
        Recheck();
        return Task.CompletedTask;
    }

    private Task AddedAsync(Guid key)
    {
        _focus = key;
        Recheck();
        return Task.CompletedTask;
    }

    private Task SetImageAsync(string? image)
    {
        _draft.Image = image ?? "";
        Touch(DraftProblems.ImageField);
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
        Touch(DraftProblems.JobsField);
        Recheck();
        Snackbar.Add($"Removed {BuildSettingsDraft.DescribeJob(job, index)}. \"Discard changes\" brings it back.", Severity.Info);
        return Task.CompletedTask;
    }

    private Task SplitIntoBlocksAsync()
    {
        var block = _draft.SplitIntoBlocks();
        Recheck();
        Snackbar.Add($"The jobs are now block {block.Name}. Add a block to run something after it.", Severity.Info);
        return Task.CompletedTask;
    }

    private Task BackToOneListAsync()
    {
        if (!_draft.BackToOneList()) return Task.CompletedTask;
        Recheck();
        Snackbar.Add("The jobs are one list again.", Severity.Info);
        return Task.CompletedTask;
    }

    private Task AddBlockAsync()
    {
        var block = _draft.AddBlock();
        _focus = block.Key;
        Recheck();
        return Task.CompletedTask;
    }

    private Task MoveBlockAsync(int index, int delta)
    {
        if (_draft.MoveBlock(index, delta)) Recheck();
        return Task.CompletedTask;
    }

    private Task RemoveBlockAsync(int index)
    {
        if (_draft.Blocks.Count <= 1) return Task.CompletedTask;
        var what = BuildSettingsDraft.DescribeBlock(_draft.Blocks[index], index);
        var dependants = _draft.RemoveBlock(index);
        Recheck();
        var after = dependants.Count == 0 ? ""
            : $" {Format.Capitalized(string.Join(", ", dependants.Select(b => BuildSettingsDraft.DescribeBlock(b, _draft.Blocks.IndexOf(b)))))} no longer {(dependants.Count == 1 ? "waits" : "wait")} for it.";
        Snackbar.Add($"Removed {what}.{after} \"Discard changes\" brings it back.", Severity.Info);
        return Task.CompletedTask;
    }

    private void Discard()
    {
        Load(_saved);
        Snackbar.Add("Changes discarded.", Severity.Info);
    }

    private async Task SaveAsync()
    {
        if (!_canWrite || _saving) return;
        // A Save shows every problem, on its field and in the list at the top (never in a toast over the buttons).
        _submitted = true;
        _serverErrors = [];
        _scriptProblems.Clear();
        Recheck();
        if (Problems.Any) return;
        _saving = true;
        _saveError = null;
        BuildSettings settings;
        try
        {
            // run-script lines the library does not know are said on their own command's field.
            var seen = new Dictionary<string, Kaizen.Portal.Scripts.ScriptRow?>(StringComparer.Ordinal);
            foreach (var (command, _) in _draft.LocatedCommands().ToList())
            {
                if (await Scripts.ProblemAsync(command.Text, seen) is { } problem)
                    _scriptProblems[command] = (command.Text, char.ToUpperInvariant(problem[0]) + problem[1..]);
            }
            Recheck();
            if (Problems.Any) return;

            // The same checks, save and audit as the API.
            var user = AuthenticationState is null ? null : (await AuthenticationState).User;
            var saved = await Changes.SaveAsync(Project, _draft.ToSettings(), user, SettingsSources.Editor);
            if (!saved.Ok)
            {
                _serverErrors = saved.Errors;
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
        _submitted = false;
        _touched.Clear();
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

    /// <summary>Edits the settings as YAML, starting from the draft as Export shows it (with the comments of the text it came
    /// from while that still says the same); applying makes the result the draft, saved only with Save.</summary>
    private async Task EditYamlAsync()
    {
        var opened = CurrentYaml();
        var parameters = new DialogParameters<SettingsYamlEditDialog> { { d => d.Yaml, opened } };
        var dialog = await Dialogs.ShowAsync<SettingsYamlEditDialog>("Edit YAML", parameters, new DialogOptions
        {
            MaxWidth = MaxWidth.ExtraLarge,
            FullWidth = true,
            // The dialog asks before dropping typed text, so neither Escape nor a click beside it closes it outright.
            CloseOnEscapeKey = false,
            BackdropClick = false,
        });
        var result = await dialog.Result;
        if (result is not { Canceled: false, Data: ImportedYaml imported }) return;
        _draft = BuildSettingsDraft.From(imported.Settings);
        _yamlTextEdited = (_importedYaml is not null && _yamlTextEdited) || imported.Text != opened;
        _importedYaml = imported.Text;
        Recheck();
        Snackbar.Add(!IsDirty ? "YAML applied: the same as the saved settings."
            : _draft.Matches(_saved) ? "YAML applied: the settings are the same, only the text changed (comments, layout). Press Save to keep it."
            : "YAML applied. Review the settings and press Save to keep them.", Severity.Info);
    }

    /// <summary>The draft as YAML: the text last applied (not saved yet) or stored, comments and all, while it still says
    /// what the draft says; otherwise the draft written out.</summary>
    private string CurrentYaml()
    {
        var settings = _draft.ToSettings();
        foreach (var text in new[] { _importedYaml, _storedYaml })
        {
            if (text is not null && SettingsSourceStore.Export(settings, text) == text) return text;
        }
        return SettingsSourceStore.Export(settings, null);
    }

    private void InRepositoryChanged(bool inRepository)
    {
        _inRepository = inRepository;
        _canWrite = _mayWrite && !inRepository;
    }

    public void Dispose() => _subscription?.Dispose();
}
