using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kaizen.Portal.Api;

/// <summary>
/// A request the API cannot read (malformed JSON, a value of the wrong type, an array where an object belongs, a query
/// value that is not a number) is answered 400 with what was wrong and where (<c>$.jobs[0].commands: expected an array
/// of strings</c>), never a bare "Bad Request". Minimal APIs throw such failures (<c>ThrowOnBadRequest</c>); this turns
/// them into problem details.
/// </summary>
public static partial class BadRequests
{
    public static IApplicationBuilder UseBadRequestDetails(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        try
        {
            await next(http);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            http.Response.Clear();
            http.Response.StatusCode = ex.StatusCode;
            await Results.Problem(Describe(ex), statusCode: ex.StatusCode, title: "The request could not be read").ExecuteAsync(http);
        }
    });

    private static readonly HashSet<Type> StrictTypes =
    [
        typeof(SettingsRequest), typeof(Builds.JobSettings), typeof(Builds.BlockSettings), typeof(Builds.MatrixAxis),
        typeof(Builds.WhenSettings), typeof(Builds.ServiceSettings),
    ];

    /// <summary>
    /// Build settings sent to the API refuse keys they do not have (<c>"comands"</c>, <c>"command"</c> on a service): the
    /// caller meant something, and dropping it in silence would run something else. Only request bodies are strict;
    /// settings the portal stored are read as they are.
    /// </summary>
    public static void RefuseUnknownSettingsKeys(System.Text.Json.Serialization.Metadata.JsonTypeInfo typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (StrictTypes.Contains(typeInfo.Type))
            typeInfo.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
    }

    /// <summary>What was wrong, in the caller's terms: the JSON path and the kind of value expected, or the binding failure.</summary>
    public static string Describe(BadHttpRequestException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.InnerException is not JsonException json)
            return exception.Message;

        var path = json.Path is { Length: > 0 } p ? p : "$";
        if (UnknownKey().Match(json.Message) is { Success: true } unknown)
            return $"{path}: unknown key '{unknown.Groups[1].Value}' (see /schemas/kaizen-settings.json for the keys).";
        // A constructor-bound record reports its own type; the reader's error says what the property wanted.
        if (json.InnerException is InvalidOperationException { Message: var reader } && TokenAs().Match(reader) is { Success: true } token)
            return $"{path}: expected {(token.Groups[1].Value == "boolean" ? "true or false" : "a " + token.Groups[1].Value)}.";
        if (ConvertedTo().Match(json.Message) is { Success: true } conversion)
            return $"{path}: expected {Expected(conversion.Groups[1].Value)}.";

        // Syntax: "'x' is an invalid start of a value. Path: $ | LineNumber: 0 | BytePositionInLine: 0."
        var message = json.Message.Split(" Path:", 2)[0].Trim();
        var where = json.LineNumber is { } line ? $" (line {line + 1}, position {json.BytePositionInLine + 1})" : "";
        return $"The body is not valid JSON at {path}{where}: {message}";
    }

    private static string Expected(string type) => type switch
    {
        _ when type.Contains("[System.String]", StringComparison.Ordinal) && (type.Contains("List", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal))
            => "an array of strings",
        _ when type.Contains("List", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "an array",
        _ when type.Contains("Dictionary", StringComparison.Ordinal) => "an object of names and values",
        "System.String" => "a string",
        "System.Int32" or "System.Int64" or "System.Double" or "System.Decimal" => "a number",
        "System.Boolean" => "true or false",
        _ when type.StartsWith("System.Nullable", StringComparison.Ordinal) => Expected(type.Split('[', 2)[1].TrimEnd(']')),
        _ => "an object",
    };

    [GeneratedRegex(@"Cannot get the value of a token type '\w+' as a (string|number|boolean)")]
    private static partial Regex TokenAs();

    [GeneratedRegex(@"The JSON property '(.{1,100}?)' could not be mapped")]
    private static partial Regex UnknownKey();

    [GeneratedRegex(@"could not be converted to ([^\s]+?)\.? Path:")]
    private static partial Regex ConvertedTo();
}
