namespace Kaizen.Portal.Tests.Components.Logs;

/// <summary>
/// A bUnit context with MudBlazor and permissive JS interop (scrolling calls do nothing here), without a database:
/// the log components render only what they are given.
/// </summary>
public abstract class LogComponentsTestContext() : PortalComponentContext(withDatabase: false);
