namespace Kaizen.Portal.Logs;

[Flags]
public enum AnsiFlags : byte
{
    None = 0,
    Bold = 1,
    Dim = 2,
    Italic = 4,
    Underline = 8,
    Inverse = 16,
    Strike = 32,
}

/// <summary>
/// The look of a run of terminal text. Colours are -1 (the terminal's default), 0–255 (the xterm palette; 0–15 are
/// the classic and bright colours, which the theme defines) or <see cref="Rgb"/> for 24-bit colours.
/// </summary>
public readonly record struct AnsiStyle(int Foreground, int Background, AnsiFlags Flags)
{
    public const int DefaultColor = -1;
    private const int RgbMarker = 1 << 24;

    public static readonly AnsiStyle Default = new(DefaultColor, DefaultColor, AnsiFlags.None);

    public bool IsDefault => this == Default;

    public static int Rgb(int r, int g, int b) => RgbMarker | (Math.Clamp(r, 0, 255) << 16) | (Math.Clamp(g, 0, 255) << 8) | Math.Clamp(b, 0, 255);

    /// <summary>CSS classes for the parts a theme defines (palette 0–15, attributes); null when there are none.</summary>
    public string? CssClass
    {
        get
        {
            if (IsDefault) return null;
            var (fg, bg) = Colors;
            var parts = new List<string>(4);
            if (fg is >= 0 and < 16) parts.Add($"ansi-fg-{fg}");
            else if (fg == InverseDefault) parts.Add("ansi-fg-inverse");
            if (bg is >= 0 and < 16) parts.Add($"ansi-bg-{bg}");
            else if (bg == InverseDefault) parts.Add("ansi-bg-inverse");
            if (Flags.HasFlag(AnsiFlags.Bold)) parts.Add("ansi-bold");
            if (Flags.HasFlag(AnsiFlags.Dim)) parts.Add("ansi-dim");
            if (Flags.HasFlag(AnsiFlags.Italic)) parts.Add("ansi-italic");
            if (Flags.HasFlag(AnsiFlags.Underline)) parts.Add("ansi-underline");
            if (Flags.HasFlag(AnsiFlags.Strike)) parts.Add("ansi-strike");
            return parts.Count == 0 ? null : string.Join(' ', parts);
        }
    }

    /// <summary>Inline CSS for colours outside the themed 16 (256-colour and 24-bit); null when there are none.</summary>
    public string? CssStyle
    {
        get
        {
            var (fg, bg) = Colors;
            var color = fg >= 16 ? $"color:{Hex(fg)};" : null;
            var background = bg >= 16 ? $"background-color:{Hex(bg)};" : null;
            return color is null && background is null ? null : color + background;
        }
    }

    // Inverse swaps the colours; a swapped default is the theme's background (or foreground), not a palette entry.
    private const int InverseDefault = -2;

    private (int Fg, int Bg) Colors => Flags.HasFlag(AnsiFlags.Inverse)
        ? (Background == DefaultColor ? InverseDefault : Background, Foreground == DefaultColor ? InverseDefault : Foreground)
        : (Foreground, Background);

    /// <summary>"#rrggbb" of a palette index 16–255 or a 24-bit colour.</summary>
    public static string Hex(int color)
    {
        if (color >= RgbMarker) return $"#{color & 0xFFFFFF:x6}";
        if (color is >= 16 and < 232)
        {
            var i = color - 16;
            static int Level(int v) => v == 0 ? 0 : 55 + v * 40;
            return $"#{Level(i / 36):x2}{Level(i / 6 % 6):x2}{Level(i % 6):x2}";
        }
        if (color is >= 232 and < 256)
        {
            var gray = 8 + (color - 232) * 10;
            return $"#{gray:x2}{gray:x2}{gray:x2}";
        }
        return "inherit";
    }
}

/// <summary>A run of text with one look.</summary>
public readonly record struct AnsiSegment(string Text, AnsiStyle Style);
