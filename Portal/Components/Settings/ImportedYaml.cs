using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Components.Settings;

/// <summary>Settings imported as YAML and the text they came from (kept with its comments when saved unchanged).</summary>
public sealed record ImportedYaml(BuildSettings Settings, string Text);
