using Kaizen.Portal.Components.Shared;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Kaizen.Portal.Components.Settings;

/// <summary>
/// The card of one block in the settings editor. It changes <see cref="Block"/> (and its jobs) in place; moving or
/// removing the block itself is the editor's, through <see cref="OnMove"/> and <see cref="OnRemove"/>.
/// </summary>
public sealed partial class BlockCardEditor
{
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    /// <summary>The whole draft: the other blocks are what this one may run after.</summary>
    [Parameter, EditorRequired] public BuildSettingsDraft Draft { get; set; } = default!;

    [Parameter, EditorRequired] public BlockDraft Block { get; set; } = default!;

    /// <summary>Its place among the blocks.</summary>
    [Parameter] public int Index { get; set; }

    /// <summary>The problems to show (those of touched fields, or all after a Save).</summary>
    [Parameter] public DraftProblems Problems { get; set; } = new();

    [Parameter] public bool ReadOnly { get; set; }

    /// <summary>The block, job or command whose field takes the focus when it appears.</summary>
    [Parameter] public Guid? FocusKey { get; set; }

    /// <summary>The project's image and the build's limit per job, shown as what a job's empty field means.</summary>
    [Parameter] public string? ProjectImage { get; set; }
    [Parameter] public string? BuildTimeLimitPerJob { get; set; }

    [Parameter] public EventCallback<CommandDraft?> OnChanged { get; set; }
    [Parameter] public EventCallback<object> OnTouched { get; set; }

    /// <summary>Raised with the key of a job just added, so its name field takes the focus.</summary>
    [Parameter] public EventCallback<Guid> OnAdded { get; set; }

    [Parameter] public EventCallback<int> OnMove { get; set; }
    [Parameter] public EventCallback OnRemove { get; set; }

    private bool _open;

    private bool OptionsHaveProblems =>
        Problems.Of(Block, DraftProblems.WhenOf) is not null || Problems.Of(Block, DraftProblems.EnvOf) is not null
        || Block.Prologue.Concat(Block.Epilogue).Any(Problems.Commands.ContainsKey);

    private async Task SetAsync(Action change)
    {
        change();
        await OnTouched.InvokeAsync(Block);
        await OnChanged.InvokeAsync(null);
    }

    private Task TouchAsync() => OnTouched.InvokeAsync(Block);

    private Task SetRunsAfterAsync(BlockDraft other, bool runsAfter) =>
        SetAsync(() => Draft.SetRunsAfter(Block, other, runsAfter));

    private async Task AddJobAsync()
    {
        var job = new JobDraft("", [""]);
        Block.Jobs.Add(job);
        await OnAdded.InvokeAsync(job.Key);
    }

    private Task MoveJobAsync(int index, int delta) =>
        BuildSettingsDraft.Move(Block.Jobs, index, delta) ? OnChanged.InvokeAsync(null) : Task.CompletedTask;

    private async Task RemoveJobAsync(int index)
    {
        var job = Block.Jobs[index];
        Block.Jobs.RemoveAt(index);
        await OnTouched.InvokeAsync(Block);
        await OnChanged.InvokeAsync(null);
        Snackbar.Add($"Removed {BuildSettingsDraft.DescribeJob(job, index, Block)}. \"Discard changes\" brings it back.", Severity.Info);
    }
}
