using Kaizen.Portal.Hosting;

var app = PortalApp.Create(args);
await app.PrepareAsync();
await app.RunAsync();

/// <summary>Exposed so tests can find the portal's assembly.</summary>
public partial class Program;
