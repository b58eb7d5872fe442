using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Kaizen.Portal.Api;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>One portal (no runner) for the users and tokens API tests; each test makes its own people.</summary>
public sealed class TeamsPortal : IAsyncLifetime
{
    public PortalHost Portal { get; private set; } = null!;

    public async Task InitializeAsync() => Portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public Task DisposeAsync() => Portal.DisposeAsync().AsTask();

    /// <summary>A user with a unique name starting with <paramref name="prefix"/>, made by the admin through the API.</summary>
    public Task<CreatedUserResponse> CreateUserAsync(string prefix, string role, string? password = null) =>
        CreateUserAsync(Portal, prefix + "-" + Guid.NewGuid().ToString("N")[..8], role, password);

    public static async Task<CreatedUserResponse> CreateUserAsync(PortalHost portal, string name, string role, string? password = null)
    {
        using var response = await portal.Api.PostAsJsonAsync("/api/v1/users", new { name, role, password });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedUserResponse>())!;
    }

    /// <summary>A client with <paramref name="token"/> as its bearer token.</summary>
    public HttpClient Client(string token) => Client(Portal, token);

    public static HttpClient Client(PortalHost portal, string token)
    {
        var http = new HttpClient { BaseAddress = portal.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}

/// <summary>
/// What a browser does with the sign-in form, over plain HTTP: fetches the form (for its antiforgery token), posts
/// it, and keeps the cookies. Redirects are not followed, so tests see where the portal sends the browser.
/// </summary>
/// <param name="from">The local address the session connects from (any of 127.0.0.0/8 reaches a loopback portal), so a
/// test can be two clients on two addresses; the system's choice when null.</param>
public sealed partial class CookieSession(Uri baseUrl, IPAddress? from = null) : IDisposable
{
    private readonly HttpClient _http = new(Handler(from)) { BaseAddress = baseUrl };

    private static SocketsHttpHandler Handler(IPAddress? from)
    {
        var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false };
        if (from is null) return handler;
        handler.ConnectCallback = async (context, ct) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
        return handler;
    }

    public HttpClient Http => _http;

    /// <summary>Posts the sign-in form; returns the answer (a redirect to the return address, or back to /login).</summary>
    public async Task<HttpResponseMessage> SignInAsync(string name, string password, string returnUrl = "/")
    {
        var form = await _http.GetStringAsync("/login");
        var antiforgery = AntiforgeryField().Match(form);
        Assert.True(antiforgery.Success, "The sign-in page has no antiforgery token.");
        return await _http.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(antiforgery.Groups[1].Value),
            ["username"] = name,
            ["password"] = password,
            ["returnUrl"] = returnUrl,
        }));
    }

    /// <summary>Signs in and fails the test unless the portal lets them in.</summary>
    public async Task SignInOrFailAsync(string name, string password)
    {
        using var response = await SignInAsync(name, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
