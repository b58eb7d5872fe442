using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kaizen.Runner.Protocol;

/// <summary>The JSON settings both ends of the runner protocol use (camelCase, enums as camelCase strings).</summary>
public static class RunnerJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
