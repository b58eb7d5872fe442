using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Kaizen.Portal.Hosting;

/// <summary>
/// Honours <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from the reverse proxies of
/// <see cref="KaizenOptions.ForwardedHeaders"/> only. ASP.NET Core's own defaults trust any loopback peer, which on a
/// machine shared with jobs or other services is anyone; here nothing is trusted unless configured.
/// </summary>
public static class KnownProxies
{
    public static WebApplication UseKnownProxies(this WebApplication app, ProxyOptions proxies)
    {
        ArgumentNullException.ThrowIfNull(proxies);
        if (proxies.KnownProxies.Count == 0 && proxies.KnownNetworks.Count == 0) return app;
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in proxies.KnownProxies)
        {
            if (!IPAddress.TryParse(proxy.Trim(), out var address))
                throw new InvalidOperationException($"Kaizen:ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address.");
            options.KnownProxies.Add(address);
        }
        foreach (var network in proxies.KnownNetworks)
        {
            if (!System.Net.IPNetwork.TryParse(network.Trim(), out var parsed))
                throw new InvalidOperationException($"Kaizen:ForwardedHeaders:KnownNetworks: '{network}' is not a network (address/prefix, like 10.0.0.0/24).");
            options.KnownIPNetworks.Add(parsed);
        }
        app.UseForwardedHeaders(options);
        return app;
    }
}
