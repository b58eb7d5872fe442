using System.Security.Claims;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Shared;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Secrets;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.JSInterop;
using MudBlazor;

namespace Kaizen.Portal.Components.Projects;

/// <summary>
/// A project's open-source options, for admins: public or private, the GitHub repository with its webhook (URL,
/// secret, events, newest deliveries), which fork pull requests wait for approval, the secrets they may receive, and the
/// build badge for a README.
/// Every change goes through <see cref="ProjectOptions"/>, the same audited way as the API.
/// </summary>
public sealed partial class GithubPanel : IDisposable
{
    /// <summary>How many deliveries are listed.</summary>
    public const int DeliveriesShown = 10;

    /// <summary>The events to tick in GitHub's webhook settings, as GitHub names them there.</summary>
    public static readonly IReadOnlyList<(string Event, string Label)> Events =
    [
        ("push", "Pushes"),
        ("pull_request", "Pull requests"),
        ("create", "Branch or tag creation"),
        ("delete", "Branch or tag deletion"),
    ];

    [Inject] private ProjectOptions Options { get; set; } = default!;
    [Inject] private ProjectStore Projects { get; set; } = default!;
    [Inject] private WebhookDeliveries Deliveries { get; set; } = default!;
    [Inject] private VariableStore Variables { get; set; } = default!;
    [Inject] private LiveUpdates Live { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private IOptions<KaizenOptions> Kaizen { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;

    /// <summary>The project whose options these are.</summary>
    [Parameter, EditorRequired] public ProjectRow Project { get; set; } = default!;

    /// <summary>Called after an option changed, so the page around can show the project as it is now.</summary>
    [Parameter] public EventCallback OnChanged { get; set; }

    [CascadingParameter] private Task<AuthenticationState>? Auth { get; set; }

    private ClaimsPrincipal _user = new();
    private ProjectRow _project = default!;
    private long _loadedId;
    private string _repository = "";
    private string? _repositoryError;
    private string? _secret;
    private bool _showSecret;
    private bool _busy;

    // Counts the visibility questions asked: the switch is made anew after each, so one answered "Cancel" shows the
    // project's visibility again instead of where it was flicked.
    private int _visibilityAsked;
    private IReadOnlyList<WebhookDeliveryRow>? _deliveries;
    private IReadOnlyList<string> _secretNames = [];
    private IDisposable? _subscription;
    private CoalescingRefresh? _refresh;

    private string BaseUrl => (Kaizen.Value.PublicUrl is { Length: > 0 } url ? url : Navigation.BaseUri).TrimEnd('/');

    private string WebhookUrl => ProjectOptions.WebhookUrl(BaseUrl);

    private string ProjectUrl => $"{BaseUrl}/projects/{Uri.EscapeDataString(_project.Slug)}";

    /// <summary>Null while a private project has no badge token: its badge does not show anywhere.</summary>
    private string? BadgeUrl => _project.IsPublic || _project.BadgeToken is not null ? ProjectOptions.BadgeUrl(BaseUrl, _project) : null;

    private string? BadgeMarkdown => BadgeUrl is { } badge ? $"[![build]({badge})]({ProjectUrl})" : null;

    /// <summary>A suggestion when the project's git URL is a GitHub one and no repository is set.</summary>
    private string? Suggested => _project.GithubRepository is null ? GithubRepositoryName.FromUrl(_project.GitUrl) : null;

    protected override async Task OnParametersSetAsync()
    {
        ArgumentNullException.ThrowIfNull(Project);
        _user = Auth is null ? new() : (await Auth).User;
        var first = _loadedId != Project.Id;
        _project = Project;
        if (!first) return;
        _loadedId = Project.Id;
        _repository = Project.GithubRepository ?? "";
        _secret = null;
        _showSecret = false;
        await LoadDeliveriesAsync();
        await LoadSecretNamesAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender) return;
        // A delivery that builds or cancels changes the project: the list follows without the refresh button.
        _refresh = new CoalescingRefresh(async () =>
        {
            await LoadDeliveriesAsync();
            await InvokeAsync(StateHasChanged);
        }, CoalescingRefresh.DefaultInterval);
        _subscription = Live.Subscribe(LiveUpdates.Keys.Project(_project.Id), _refresh.RequestAsync);
    }

    private async Task LoadDeliveriesAsync() => _deliveries = await Deliveries.NewestAsync(_project.Id, DeliveriesShown);

    private async Task RefreshDeliveriesAsync()
    {
        _deliveries = null;
        await LoadDeliveriesAsync();
    }

    private async Task LoadSecretNamesAsync()
    {
        var project = await Variables.SecretsAsync(VariableScope.Project(_project.Id));
        var org = await Variables.SecretsAsync(VariableScope.Org);
        _secretNames = project.Select(s => s.Name).Concat(org.Select(s => s.Name)).Concat(_project.ForkSecrets)
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
    }

    private async Task<bool> ChangeAsync(ProjectOptionsChange change, string done)
    {
        _busy = true;
        try
        {
            var changed = await Options.ChangeAsync(_project, change, _user);
            if (!changed.Ok)
            {
                Snackbar.Add(changed.Message ?? "The change was refused.", Severity.Error);
                return false;
            }
            _project = changed.Value!;
            Snackbar.Add(done, Severity.Success);
            await OnChanged.InvokeAsync();
            return true;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task SetPublicAsync(bool isPublic)
    {
        if (isPublic == _project.IsPublic) return;
        _visibilityAsked++;
        // Opening a project to the world is asked like deleting it: by its name. Closing it again is a plain question.
        if (isPublic)
        {
            var dialog = await Dialogs.ShowAsync<ConfirmByNameDialog>($"Make {_project.Name} public?", new DialogParameters<ConfirmByNameDialog>
            {
                { d => d.Title, $"Make {_project.Name} public?" },
                { d => d.Text, "Anyone, signed in or not, will be able to read its builds, branches, commit messages and job logs " +
                    "(secrets are masked in logs). Its settings, servers, deploys, variables and secrets stay private." },
                { d => d.Name, _project.Name },
                { d => d.ConfirmText, "Make public" },
                { d => d.ConfirmColor, Color.Warning },
            }, new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
            if (await dialog.Result is not { Canceled: false }) return;
        }
        else if (await Dialogs.ShowMessageBoxAsync($"Make {_project.Name} private?",
                     "Only signed-in people will see it; links to its builds and its badge stop working for anyone else.",
                     yesText: "Make private", cancelText: "Cancel") != true)
        {
            return;
        }
        await ChangeAsync(new ProjectOptionsChange(Public: isPublic),
            isPublic ? "The project is public: anyone can read its builds and logs." : "The project is private: only signed-in people see it.");
    }

    private void OnRepositoryChanged(string value)
    {
        _repository = value;
        _repositoryError = ProjectOptions.RepositoryError(value);
    }

    private async Task SaveRepositoryAsync()
    {
        _repositoryError = ProjectOptions.RepositoryError(_repository);
        if (_repositoryError is not null) return;
        var repository = _repository.Trim();
        if (await ChangeAsync(new ProjectOptionsChange(GithubRepository: repository),
                repository.Length == 0 ? "GitHub repository removed." : $"GitHub repository set to {repository}."))
            _repository = _project.GithubRepository ?? "";
    }

    private async Task UseSuggestedAsync()
    {
        if (Suggested is not { } suggested) return;
        _repository = suggested;
        await SaveRepositoryAsync();
    }

    // The secret is read (and made, the first time) only when an admin asks for it.
    private async Task<string?> SecretAsync()
    {
        _secret ??= await Options.WebhookSecretAsync(_project);
        if (_secret is null) Snackbar.Add("The webhook secret cannot be read any more (its keys are gone): rotate it.", Severity.Warning);
        return _secret;
    }

    private async Task ToggleSecretAsync()
    {
        if (_showSecret)
        {
            _showSecret = false;
            return;
        }
        _showSecret = await SecretAsync() is not null;
    }

    private Task CopyWebhookUrlAsync() => CopyAsync(WebhookUrl, "Webhook URL");

    private Task CopyBadgeAsync() => BadgeMarkdown is { } markdown ? CopyAsync(markdown, "Badge Markdown") : Task.CompletedTask;

    private async Task CopySecretAsync()
    {
        if (await SecretAsync() is { } secret) await CopyAsync(secret, "Webhook secret");
    }

    private async Task RotateSecretAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Rotate the webhook secret?",
            "GitHub's deliveries are refused until the webhook in GitHub is given the new secret.",
            yesText: "Rotate", cancelText: "Cancel");
        if (confirmed != true) return;
        _secret = await Options.RotateWebhookSecretAsync(_project, _user);
        _showSecret = true;
        Snackbar.Add("New webhook secret made: paste it into the webhook's settings in GitHub.", Severity.Success);
    }

    private bool AllowsForkSecret(string name) => _project.ForkSecrets.Contains(name, StringComparer.OrdinalIgnoreCase);

    private async Task SetForkSecretAsync(string name, bool allowed)
    {
        var names = _project.ForkSecrets.Where(n => !string.Equals(n, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (allowed) names.Add(name);
        await ChangeAsync(new ProjectOptionsChange(ForkSecrets: names),
            allowed ? $"Fork pull requests may now receive {name}." : $"Fork pull requests no longer receive {name}.");
    }

    private async Task SetForkApprovalAsync(string mode)
    {
        if (mode == _project.ForkApproval) return;
        await ChangeAsync(new ProjectOptionsChange(ForkApproval: mode), $"Fork pull request approval: {mode}. {ForkApproval.Describe(mode)}");
    }

    private async Task MakeBadgeTokenAsync()
    {
        await Options.MakeBadgeTokenAsync(_project, _user);
        await ReloadProjectAsync();
        Snackbar.Add("Badge token made: the badge URL below shows this private project's status.", Severity.Success);
    }

    private async Task RemoveBadgeTokenAsync()
    {
        var confirmed = await Dialogs.ShowMessageBoxAsync("Remove the badge token?",
            "Badges with the current URL stop showing, wherever they are.", yesText: "Remove", cancelText: "Cancel");
        if (confirmed != true) return;
        await Options.RemoveBadgeTokenAsync(_project, _user);
        await ReloadProjectAsync();
        Snackbar.Add("Badge token removed.", Severity.Success);
    }

    private async Task ReloadProjectAsync()
    {
        _project = await Projects.FindBySlugAsync(_project.Slug) ?? _project;
        await OnChanged.InvokeAsync();
    }

    private async Task CopyAsync(string text, string what)
    {
        try
        {
            await JS.InvokeVoidAsync("navigator.clipboard.writeText", text);
            Snackbar.Add($"{what} copied to the clipboard.", Severity.Success);
        }
        catch (JSException)
        {
            Snackbar.Add("The browser did not allow copying; select the text and copy it.", Severity.Warning);
        }
    }

    private static Color StatusColor(int statusCode) => statusCode switch
    {
        < 300 => Color.Success,
        < 500 => Color.Warning,
        _ => Color.Error,
    };

    public void Dispose()
    {
        _refresh?.Dispose();
        _subscription?.Dispose();
    }
}
