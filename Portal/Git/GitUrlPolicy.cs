using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Git;

/// <summary>Who asks for a git URL: admins may point the portal at its own machine, members may not.</summary>
public enum GitUrlRequester
{
    Member,
    Admin,
}

/// <summary>
/// Which git URLs a project may be built from. The portal's git runs on the portal's machine with its rights, so a URL
/// is a request to read something from there: a local path or <c>file://</c> reads the machine's files (another
/// project's mirror in the data folder), and an address on the loopback or a private network reaches services nobody
/// outside may reach. Members get remote repositories on public hosts over https, ssh and git (scp-like
/// <c>user@host:path</c> too); admins also get local paths, <c>file://</c> and plain http, never inside the data folder.
/// <see cref="GitOptions.AllowedHosts"/> and <see cref="GitOptions.DeniedHosts"/> narrow or open the hosts.
/// </summary>
public sealed class GitUrlPolicy(IOptions<KaizenOptions> options)
{
    private static readonly string[] MemberSchemes = ["https", "ssh", "git"];

    /// <summary>Why <paramref name="url"/> (as <see cref="GitMirror.NormalizeUrl"/> returned it) may not be used by
    /// <paramref name="requester"/>, in words that say what to do instead; null when it may.</summary>
    public async Task<string?> CheckAsync(string url, GitUrlRequester requester, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(url);
        var admin = requester == GitUrlRequester.Admin;
        if (LocalPath(url) is { } path)
        {
            if (!admin) return "Only admins may build from a path on the portal's machine; give the repository's https:// or ssh:// address.";
            return InsideDataFolder(path)
                ? "That path is inside the portal's data folder (its own mirrors and files); give the repository's own location."
                : null;
        }
        string host;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            if (!(MemberSchemes.Contains(uri.Scheme) || (admin && uri.Scheme == "http")))
                return $"{uri.Scheme}:// addresses are not allowed; use https://, ssh://, git:// or user@host:path.";
            host = uri.IdnHost;
        }
        else if (ScpHost(url) is { } scpHost)
        {
            host = scpHost;
        }
        else
        {
            return "That is not a git address this portal accepts; use https://, ssh://, git:// or user@host:path.";
        }
        return await HostErrorAsync(host.Trim('[', ']'), ct);
    }

    private GitOptions Git => options.Value.Git;

    private async Task<string?> HostErrorAsync(string host, CancellationToken ct)
    {
        if (host.Length == 0) return "The address names no host.";
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, ct);
            }
            catch (SocketException)
            {
                return $"The host {host} could not be found; check the address.";
            }
        }
        if (Matches(Git.DeniedHosts, host, addresses))
            return $"Repositories on {host} are not allowed on this portal (Kaizen:Git:DeniedHosts).";
        var allowed = Matches(Git.AllowedHosts, host, addresses);
        if (Git.AllowedHosts.Count > 0 && !allowed)
            return $"Repositories on {host} are not allowed on this portal; an admin can add the host to Kaizen:Git:AllowedHosts.";
        if (!allowed && addresses.FirstOrDefault(IsInternal) is { } inside)
            return $"{host} is an address on the portal's own machine or private network ({inside}), which projects may not reach; " +
                   "an admin can allow the host with Kaizen:Git:AllowedHosts.";
        return null;
    }

    /// <summary>True when an entry names the host (exactly, or <c>*.example.com</c> for its subdomains) or a network
    /// (<c>10.0.0.0/8</c>, or one address) that holds one of its addresses.</summary>
    private static bool Matches(IEnumerable<string> entries, string host, IPAddress[] addresses) => entries.Any(entry =>
    {
        entry = entry.Trim();
        if (entry.StartsWith("*.", StringComparison.Ordinal))
            return host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase);
        if (IPNetwork.TryParse(entry, out var network))
            return addresses.Any(a => network.Contains(Unmapped(a)));
        if (IPAddress.TryParse(entry, out var single))
            return addresses.Any(a => Unmapped(a).Equals(Unmapped(single)));
        return string.Equals(entry, host, StringComparison.OrdinalIgnoreCase);
    });

    private static readonly IPNetwork[] InternalNetworks =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
    ];

    /// <summary>Loopback, link-local (cloud metadata lives there), private, shared (carrier-grade NAT) and unspecified
    /// addresses, and multicast.</summary>
    public static bool IsInternal(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var a = Unmapped(address);
        return IPAddress.IsLoopback(a) || a.IsIPv6Multicast || (a.AddressFamily == AddressFamily.InterNetwork && a.GetAddressBytes()[0] >= 224)
               || InternalNetworks.Any(n => n.BaseAddress.AddressFamily == a.AddressFamily && n.Contains(a));
    }

    private static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    /// <summary>The folder a local path or file:// URL names; null for remote addresses.</summary>
    private static string? LocalPath(string url)
    {
        if (Path.IsPathRooted(url)) return Path.GetFullPath(url);
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.IsFile ? Path.GetFullPath(uri.LocalPath) : null;
    }

    /// <summary>The host of scp-like syntax, <c>user@host:path</c> (git reads it so when no slash comes before the colon).</summary>
    private static string? ScpHost(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        var at = url.LastIndexOf('@', colon < 0 ? 0 : colon);
        if (colon < 0 || at < 0 || url.AsSpan(0, colon).Contains('/')) return null;
        return url[(at + 1)..colon];
    }

    private bool InsideDataFolder(string path)
    {
        var data = options.Value.ResolveDataDirectory();
        string[] folders = [data, ResolveLinks(data)];
        string[] paths = [path, ResolveLinks(path)];
        return folders.Select(Path.TrimEndingDirectorySeparator).Any(folder => paths.Select(Path.TrimEndingDirectorySeparator).Any(p =>
            p.Equals(folder, StringComparison.Ordinal) || p.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)));
    }

    /// <summary>The path with symbolic links along it followed, so a link elsewhere that points into the data folder counts as inside.</summary>
    private static string ResolveLinks(string path)
    {
        var resolved = "";
        foreach (var part in path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            resolved = Path.Combine(resolved.Length == 0 ? Path.DirectorySeparatorChar.ToString() : resolved, part);
            try
            {
                if (new FileInfo(resolved).ResolveLinkTarget(returnFinalTarget: true) is { } target) resolved = target.FullName;
            }
            catch (IOException)
            {
                return path;
            }
        }
        return resolved.Length == 0 ? path : resolved;
    }
}
