using System.Globalization;
using System.Net;
using System.Text;

namespace Kaizen.Portal.Badges;

/// <summary>
/// A flat two-part badge (a grey label, a coloured message) drawn as SVG: what README files of open-source projects
/// show. Text widths are estimated from typical glyph widths of an 11px sans-serif font, which is how such badges
/// are laid out without a font engine; the text scales to the measured width so any font fits.
/// </summary>
public static class BadgeSvg
{
    public const string Passing = "#3fb950";
    public const string Failing = "#e05d44";
    public const string Running = "#dfb317";
    public const string Unknown = "#9f9f9f";
    private const string LabelColor = "#555";

    public static string Render(string label, string message, string color)
    {
        var labelWidth = TextWidth(label) + 10;
        var messageWidth = TextWidth(message) + 10;
        var width = labelWidth + messageWidth;
        string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        var l = WebUtility.HtmlEncode(label);
        var m = WebUtility.HtmlEncode(message);
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(width)}\" height=\"20\" role=\"img\" aria-label=\"{l}: {m}\">");
        sb.Append($"<title>{l}: {m}</title>");
        sb.Append("<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>");
        sb.Append($"<clipPath id=\"r\"><rect width=\"{N(width)}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>");
        sb.Append("<g clip-path=\"url(#r)\">");
        sb.Append($"<rect width=\"{N(labelWidth)}\" height=\"20\" fill=\"{LabelColor}\"/>");
        sb.Append($"<rect x=\"{N(labelWidth)}\" width=\"{N(messageWidth)}\" height=\"20\" fill=\"{color}\"/>");
        sb.Append($"<rect width=\"{N(width)}\" height=\"20\" fill=\"url(#s)\"/></g>");
        sb.Append("<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">");
        Text(sb, l, labelWidth / 2, labelWidth - 10, N);
        Text(sb, m, labelWidth + messageWidth / 2, messageWidth - 10, N);
        sb.Append("</g></svg>");
        return sb.ToString();
    }

    private static void Text(StringBuilder sb, string text, double middle, double width, Func<double, string> n)
    {
        // A shadow one pixel below, then the text.
        sb.Append($"<text x=\"{n(middle)}\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" textLength=\"{n(width)}\" lengthAdjust=\"spacingAndGlyphs\">{text}</text>");
        sb.Append($"<text x=\"{n(middle)}\" y=\"14\" textLength=\"{n(width)}\" lengthAdjust=\"spacingAndGlyphs\">{text}</text>");
    }

    /// <summary>The width in pixels of <paramref name="text"/> in an 11px Verdana-like font.</summary>
    public static double TextWidth(string text)
    {
        double width = 0;
        foreach (var c in text)
        {
            width += c switch
            {
                'i' or 'l' or 'j' or '\'' or '|' or '.' or ',' or ':' or ';' or '!' => 3.5,
                'f' or 't' or 'r' or 'I' or ' ' or '(' or ')' or '[' or ']' or '/' or '-' => 4.8,
                'm' or 'w' or 'M' or 'W' or '%' or '@' => 10.5,
                >= 'A' and <= 'Z' => 7.8,
                _ => 7.0,
            };
        }
        return Math.Round(width, 1);
    }
}
