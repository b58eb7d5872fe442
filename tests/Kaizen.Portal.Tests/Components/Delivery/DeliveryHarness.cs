using Kaizen.Portal.Delivery;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Delivery;

/// <summary>
/// A bUnit context with MudBlazor and the real delivery services (store, rules, audit, live updates) over a migrated
/// SQLite file, a project "shop" with a passed build of main, and a signed-in person chosen per test with
/// <see cref="PortalComponentContext.SignIn"/>. Pages render inside the popover, dialog and snackbar providers a
/// layout gives them.
/// </summary>
public abstract class DeliveryHarness : PortalComponentContext
{
    protected DeployStore Store { get; private set; } = default!;
    protected DeployService Service { get; private set; } = default!;
    protected long ProjectId { get; private set; }
    protected long PassedBuildId { get; private set; }

    protected override async Task SetUpAsync()
    {
        AddBuildAndDeployServices(new EphemeralDataProtectionProvider());
        SignIn("admin", "admin");
        Store = Services.GetRequiredService<DeployStore>();
        Service = Services.GetRequiredService<DeployService>();

        ProjectId = await Db.CreateProjectAsync("shop", TestDatabase.OneJob());
        var runnerId = await Db.RegisterRunnerAsync("runner-1");
        PassedBuildId = await PassedBuildAsync(runnerId, ProjectId);
    }

    protected async Task<ServerRow> AddServerAsync(string name, int approvals = 0, string deployers = Deployers.Members, string branch = "")
    {
        var created = await Service.CreateServerAsync((await Db.Projects.FindBySlugAsync("shop"))!,
            new ServerSpec(name, ["./deploy.sh " + name], TriggerMode.Manual, branch, approvals, deployers), new Actor("admin", "admin"));
        Assert.True(created.Ok, created.Message);
        return created.Value!;
    }

    protected async Task<DeployRow> RequestAsync(string server, string by, string role = "member")
    {
        var requested = await Service.RequestAsync(PassedBuildId, server, new Actor(by, role));
        Assert.True(requested.Ok, requested.Message);
        return requested.Value!;
    }
}
