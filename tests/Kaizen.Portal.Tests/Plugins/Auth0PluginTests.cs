using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Plugins;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Portal.Tests.Plugins;

/// <summary>
/// The Auth0 plugin loaded by the real portal from plugins.json: CI checks the tenant scripts, and the deploy commands it
/// plans run for real in bash (curl, jq) against a loopback server that answers like a tenant's token and management
/// endpoints.
/// </summary>
public sealed class Auth0PluginTests : IAsyncLifetime
{
    private const string Install = "apt-get install -y curl jq shellcheck";
    private const string Domain = "kaizen-test.eu.auth0.com";
    private const string ClientId = "kaizen-deployer";
    private const string ClientSecret = "deployer-secret-value-7f3a";

    // Helpers are sourced, never run on their own (leading underscore).
    private const string Lib = """
        #!/usr/bin/env bash
        # api METHOD PATH: calls the management API with the JSON body on stdin.
        api() {
            curl -fsS -X "$1" "$AUTH0_BASE_URL/api/v2/$2" \
                -H "Authorization: Bearer $AUTH0_TOKEN" -H 'Content-Type: application/json' --data-binary @-
        }
        """;

    private const string Clients = """
        #!/usr/bin/env bash
        set -euo pipefail
        # shellcheck source=/dev/null
        . "$(dirname "$0")/_lib.sh"
        jq -n --arg env "$AUTH0_ENV" '{description: ("Kaizen portal (" + $env + ")")}' \
            | api PATCH clients/portal-app | jq -r '"updated client " + .client_id'
        """;

    private static string Callbacks(string url) => $$"""
        #!/usr/bin/env bash
        set -euo pipefail
        # shellcheck source=/dev/null
        . "$(dirname "$0")/../_lib.sh"
        echo '{"callbacks": ["{{url}}/callback"]}' | api PATCH clients/portal-app | jq -r '"callbacks: " + (.callbacks | join(","))'
        """;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private string _sha = "";

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 1);
        _repo = await GitRepo.CreateAsync("main");
        _sha = await _repo.CommitAsync("Tenant scripts",
            ("auth0/_lib.sh", Lib),
            ("auth0/10-clients.sh", Clients),
            ("auth0/dev/20-callbacks.sh", Callbacks("https://dev.kaizen.test")),
            ("auth0/prod/20-callbacks.sh", Callbacks("https://kaizen.test")));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [SkippableFact]
    public async Task Tenant_scripts_are_detected_and_their_ci_job_checks_them()
    {
        Toolchain.Require(Install, "bash");
        var slug = await GradlePluginTests.CreateProjectAsync(_portal, _repo, "Identity Tenant");

        var stacks = await _portal.Api.GetFromJsonAsync<List<StackResponse>>($"/api/v1/projects/{slug}/stacks");
        (await _portal.Api.PostAsync($"/api/v1/projects/{slug}/stacks/apply", null)).EnsureSuccessStatusCode();
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 120);

        var auth0 = Assert.Single(stacks!);
        Assert.Equal(("auth0", "auth0"), (auth0.PluginId, auth0.Directory));
        Assert.Equal("Auth0 tenant scripts in auth0 (4 scripts; environments: dev, prod)", auth0.Summary);
        Assert.Equal("auth0 (auth0): check", Assert.Single(auth0.Jobs).Name);
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        var log = await _portal.LogAsync(Assert.Single(build.Jobs).Id);
        if (Toolchain.IsInstalled("shellcheck")) Assert.DoesNotContain("shellcheck is not installed", log);
    }

    [SkippableFact]
    public async Task A_deploy_gets_a_management_token_and_runs_the_common_and_the_servers_scripts_against_the_tenant()
    {
        Toolchain.Require(Install, "curl", "jq");
        await using var tenant = TenantServer.Start(ClientId, ClientSecret);
        var plan = await PlanDeployAsync("dev");

        var (results, output) = await RunAsync(plan.Commands, tenant.BaseUrl, ClientSecret);

        Assert.Equal(["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"], plan.RequiredVariables);
        Assert.True(results.All(r => r == 0), $"exit codes {string.Join(",", results)}\n{output}");
        Assert.Equal(plan.Commands.Count, results.Count);
        Assert.Equal(
        [
            "POST /oauth/token",
            "PATCH /api/v2/clients/portal-app {\"description\":\"Kaizen portal (dev)\"}",
            "PATCH /api/v2/clients/portal-app {\"callbacks\":[\"https://dev.kaizen.test/callback\"]}",
        ], tenant.Calls.Select(c => c.ToString()));
        var token = JsonNode.Parse(tenant.Calls[0].Body)!;
        Assert.Equal(("client_credentials", ClientId, ClientSecret, $"https://{Domain}/api/v2/"),
            ((string?)token["grant_type"], (string?)token["client_id"], (string?)token["client_secret"], (string?)token["audience"]));
        Assert.Contains("updated client portal-app", output);
        Assert.Contains("callbacks: https://dev.kaizen.test/callback", output);
        Assert.DoesNotContain(ClientSecret, output);
        Assert.DoesNotContain(TenantServer.Token, output);
    }

    [SkippableFact]
    public async Task Wrong_client_credentials_stop_the_deploy_before_any_script_runs()
    {
        Toolchain.Require(Install, "curl", "jq");
        await using var tenant = TenantServer.Start(ClientId, ClientSecret);
        var plan = await PlanDeployAsync("prod");

        var (results, output) = await RunAsync(plan.Commands, tenant.BaseUrl, "not-the-secret");

        Assert.NotEqual(0, results[^1]);
        Assert.True(results.Count < plan.Commands.Count, "the scripts after the token step did not run");
        Assert.Contains($"auth0: could not get a management API token from {tenant.BaseUrl}/oauth/token", output);
        Assert.Equal(["POST /oauth/token"], tenant.Calls.Select(c => c.ToString()));
    }

    [SkippableFact]
    public async Task A_server_without_the_variables_is_told_which_are_missing()
    {
        Toolchain.Require(Install, "bash");
        var plan = await PlanDeployAsync("prod");

        var (results, output) = await RunAsync(plan.Commands, "http://127.0.0.1:9", clientSecret: null);

        Assert.Equal([1], results);
        Assert.Contains("auth0: not set in this server's environment: AUTH0_CLIENT_SECRET", output);
    }

    /// <summary>The deploy plan of the portal's own (plugins.json) auth0 plugin for the repository's head.</summary>
    private async Task<DeployPlan> PlanDeployAsync(string server)
    {
        var host = _portal.Service<PluginHost>();
        var (plugin, planner) = Assert.Single(host.Extensions<IDeployPlanner>(), p => p.Plugin.Id == "auth0");
        using var view = await GitRepositoryView.OpenAsync(Path.Combine(_repo.Path, ".git"), _sha, CancellationToken.None);
        Assert.NotNull(view);
        var stack = Assert.Single(((IStackDetector)plugin.Instance!).Detect(view));
        return planner.PlanDeploy(new DeployPlanContext(view, stack, server, ["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"]));
    }

    /// <summary>Runs the commands one by one in one bash session, as a job does, stopping at the first failure.</summary>
    private async Task<(List<int> ExitCodes, string Output)> RunAsync(IReadOnlyList<string> commands, string baseUrl, string? clientSecret)
    {
        var environment = new Dictionary<string, string>
        {
            ["AUTH0_DOMAIN"] = Domain,
            ["AUTH0_CLIENT_ID"] = ClientId,
            ["AUTH0_BASE_URL"] = baseUrl,
        };
        if (clientSecret is not null) environment["AUTH0_CLIENT_SECRET"] = clientSecret;
        var output = new StringBuilder();
        var results = new List<int>();
        await using var session = BashSession.Start(_repo.Path, environment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var command in commands)
        {
            output.Append("$ ").AppendLine(command);
            var result = await session.RunAsync(command, bytes =>
            {
                lock (output) output.Append(Encoding.UTF8.GetString(bytes.Span));
                return ValueTask.CompletedTask;
            }, timeout.Token);
            results.Add(result.ExitCode);
            if (result.ExitCode != 0) break;
        }
        return (results, output.ToString());
    }

    /// <summary>
    /// A loopback stand-in for a tenant: <c>POST /oauth/token</c> checks the client credentials and grants a token;
    /// <c>/api/v2/*</c> needs that token as a bearer and echoes a PATCHed client back.
    /// </summary>
    private sealed class TenantServer : IAsyncDisposable
    {
        public const string Token = "mgmt-token-0d1e2f";

        private readonly HttpListener _listener;
        private readonly Task _loop;
        private readonly string _clientId;
        private readonly string _clientSecret;
        private readonly ConcurrentQueue<Call> _calls = new();

        private TenantServer(HttpListener listener, string baseUrl, string clientId, string clientSecret)
        {
            _listener = listener;
            BaseUrl = baseUrl;
            _clientId = clientId;
            _clientSecret = clientSecret;
            _loop = Task.Run(LoopAsync);
        }

        public sealed record Call(string Method, string Path, string Body)
        {
            // Bodies compacted, so the assertions do not depend on jq's formatting.
            public override string ToString() =>
                Path == "/oauth/token" ? $"{Method} {Path}" : $"{Method} {Path} {TryParse(Body)?.ToJsonString() ?? Body}".TrimEnd();
        }

        public string BaseUrl { get; }

        public IReadOnlyList<Call> Calls => _calls.ToList();

        public static TenantServer Start(string clientId, string clientSecret)
        {
            // HttpListener needs a fixed prefix: take a free port and retry on the rare race with another process.
            for (var attempt = 0; ; attempt++)
            {
                var baseUrl = $"http://127.0.0.1:{PortalHost.FreePort()}";
                var listener = new HttpListener();
                listener.Prefixes.Add(baseUrl + "/");
                try
                {
                    listener.Start();
                    return new TenantServer(listener, baseUrl, clientId, clientSecret);
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                    listener.Close();
                }
            }
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }
                catch (HttpListenerException)
                {
                    return;
                }
                await HandleAsync(context);
            }
        }

        private async Task HandleAsync(HttpListenerContext context)
        {
            var request = context.Request;
            string body;
            using (var reader = new StreamReader(request.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync();
            var path = request.Url!.AbsolutePath;
            _calls.Enqueue(new Call(request.HttpMethod, path, body));
            var (status, answer) = Answer(request, path, body);
            var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
            context.Response.StatusCode = (int)status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }

        private (HttpStatusCode, JsonNode) Answer(HttpListenerRequest request, string path, string body)
        {
            if (request.HttpMethod == "POST" && path == "/oauth/token")
            {
                var json = TryParse(body);
                var granted = (string?)json?["grant_type"] == "client_credentials"
                              && (string?)json?["client_id"] == _clientId
                              && (string?)json?["client_secret"] == _clientSecret;
                return granted
                    ? (HttpStatusCode.OK, new JsonObject { ["access_token"] = Token, ["token_type"] = "Bearer", ["expires_in"] = 86400 })
                    : (HttpStatusCode.Unauthorized, new JsonObject { ["error"] = "access_denied", ["error_description"] = "Unauthorized" });
            }
            if (!path.StartsWith("/api/v2/", StringComparison.Ordinal))
                return (HttpStatusCode.NotFound, new JsonObject { ["error"] = "Not Found" });
            if (request.Headers["Authorization"] != $"Bearer {Token}")
                return (HttpStatusCode.Unauthorized, new JsonObject { ["error"] = "Unauthorized", ["message"] = "Missing or invalid token" });
            if (request.HttpMethod == "PATCH" && path.StartsWith("/api/v2/clients/", StringComparison.Ordinal) && TryParse(body) is JsonObject patch)
            {
                patch["client_id"] = path["/api/v2/clients/".Length..];
                return (HttpStatusCode.OK, patch);
            }
            return (HttpStatusCode.BadRequest, new JsonObject { ["error"] = "Bad Request" });
        }

        internal static JsonNode? TryParse(string body)
        {
            try
            {
                return JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is ObjectDisposedException or HttpListenerException or TimeoutException)
            {
            }
        }
    }
}
