using MudBlazor;

namespace Kaizen.Portal.Components.Layout;

public static class KaizenTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight { Primary = "#4a3fc7", AppbarBackground = "#2d2a5a" },
        PaletteDark = new PaletteDark { Primary = "#8f86ff", AppbarBackground = "#1c1b2e" },
    };
}
