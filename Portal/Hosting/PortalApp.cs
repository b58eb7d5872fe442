using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kaizen.Portal.Api;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Badges;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Caches;
using Kaizen.Portal.Components;
using Kaizen.Portal.Data;
using Kaizen.Portal.Delivery;
using Kaizen.Portal.Git;
using Kaizen.Portal.GitHub;
using Kaizen.Portal.Insights;
using Kaizen.Portal.Plugins;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Runners;
using Kaizen.Portal.Scripts;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.TestReports;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Kaizen.Portal.Hosting;

/// <summary>Builds the portal. Program.cs and the integration tests both start it through here.</summary>
public static class PortalApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The application name locates the static assets manifest, also when a test process hosts the portal.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(PortalApp).Assembly.GetName().Name,
            // Settings files sit beside the binaries; the working directory is only where data/ goes.
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Serve MudBlazor's and the framework's assets straight from the build output under `dotnet run` in any
        // environment; a published portal has no development manifest and this does nothing.
        builder.WebHost.UseStaticWebAssets();
        configure?.Invoke(builder);
        builder.Services.AddKaizenPortal(builder.Configuration);
        var app = builder.Build();
        app.UseKaizenPortal();
        return app;
    }

    /// <summary>Migrates the database and creates the first admin; call before the app starts listening.</summary>
    public static async Task PrepareAsync(this WebApplication app, CancellationToken ct = default)
    {
        await app.Services.GetRequiredService<Bootstrap>().RunAsync(ct);
        // Load plugins at start so a broken one is reported in the log right away, not on first use.
        _ = app.Services.GetRequiredService<PluginHost>().Plugins;
    }

    public static IServiceCollection AddKaizenPortal(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KaizenOptions>().Bind(configuration.GetSection(KaizenOptions.Section));
        services.AddSingleton(TimeProvider.System);

        // Data: stateless stores over a pooled connection factory.
        services.AddSingleton<Database>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<ProjectStore>();
        services.AddSingleton<BuildStore>();
        services.AddSingleton<LogStore>();
        services.AddSingleton<SectionedLog>();
        services.AddSingleton<Kaizen.Portal.Logs.LogViews>();
        services.AddHostedService<Kaizen.Portal.Logs.LogIndexer>();
        services.AddSingleton<RunnerStore>();
        services.AddSingleton<RunnerLabelSettings>();
        services.AddSingleton<RunnerAdmin>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<DeployStore>();
        services.AddSingleton<DeployService>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddSingleton<ProjectOptions>();
        services.AddSingleton<BuildFilters>();
        services.AddSingleton<GithubWebhook>();
        services.AddHttpClient();
        services.AddHostedService<CommitStatusReporter>();
        services.AddKaizenSecrets(configuration);
        services.AddKaizenArtifacts();
        services.AddKaizenCaches();

        // Domain services.
        services.AddSingleton<GitMirror>();
        services.AddSingleton<GitUrlPolicy>();
        services.AddSingleton<ProjectService>();
        services.AddSingleton<ProjectRemoval>().AddSingleton<ProjectLifecycle>();
        services.AddSingleton<BuildService>();
        services.AddSingleton<SettingsSourceStore>().AddSingleton<RepositorySettings>().AddSingleton<SettingsSourceChanges>();
        services.AddSingleton<BuildRefResolver>();
        services.AddSingleton<BuildFactsReader>().AddSingleton<BuildLimits>().AddHostedService(s => s.GetRequiredService<BuildLimits>());
        services.AddSingleton<BuildSettingsChanges>();
        services.AddSingleton<WorkSignal>();
        services.AddSingleton<LiveUpdates>();
        services.AddSingleton<RunnerRegistration>();
        services.AddSingleton<Bootstrap>();
        services.AddSingleton<PluginHost>();
        services.AddSingleton<StackService>();
        services.AddSingleton<TestReportStore>();
        services.AddSingleton<TestResultService>();
        services.AddKaizenScripts();
        services.AddKaizenDebug();
        services.AddSingleton<InsightsStore>();
        services.AddSingleton<InsightsService>();
        services.AddSingleton<HiddenCommands>();
        services.AddSingleton<IPasswordHasher<UserRow>, PasswordHasher<UserRow>>();
        services.AddHostedService<LeaseReaper>();
        services.AddSingleton<Kaizen.Portal.Git.RemotePoller>().AddHostedService(s => s.GetRequiredService<Kaizen.Portal.Git.RemotePoller>());
        services.AddKaizenHealth();
        if (configuration.GetValue($"{KaizenOptions.Section}:Runners:Embedded:Enabled", true))
            services.AddHostedService<EmbeddedRunner>();

        services.AddKaizenAuth(configuration);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
            // A typo in build settings ("comands") is refused with its path rather than dropped (Api/BadRequests.cs).
            o.SerializerOptions.TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.WithAddedModifier(
                o.SerializerOptions.TypeInfoResolver ?? new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
                BadRequests.RefuseUnknownSettingsKeys);
        });
        services.AddProblemDetails();
        // Body and parameter binding failures are thrown, and answered with what was wrong (Api/BadRequests.cs).
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddOpenApi();
        // A text field sends its whole text with each change: 32 KB (the default) would drop the connection on settings pasted
        // into Edit YAML, which reads up to 1,000,000 characters (up to 3 bytes each) and keeps longer texts in the browser.
        services.AddRazorComponents().AddInteractiveServerComponents().AddHubOptions(o => o.MaximumReceiveMessageSize = 4 * 1024 * 1024);
        services.AddMudServices();
        services.AddCascadingAuthenticationState();
        return services;
    }

    private static IServiceCollection AddKaizenAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<UserAdmin>();
        services.AddSingleton<PersonalTokens>();
        services.AddSingleton<SshKeys>();
        services.AddSingleton<SignInThrottle>();
        // Open circuits re-check their user (removed? other role?); Blazor only adds its own provider when none is.
        services.AddScoped<AuthenticationStateProvider, UserRevalidatingAuthenticationStateProvider>();
        var github = configuration.GetSection($"{KaizenOptions.Section}:GitHub").Get<GitHubOptions>() ?? new GitHubOptions();
        services.AddAuthentication(KaizenAuth.Default)
            .AddPolicyScheme(KaizenAuth.Default, "Cookie or API token", o =>
                o.ForwardDefaultSelector = http =>
                    Tokens.FromHeader(http.Request.Headers.Authorization) is not null
                        ? http.Request.Path.StartsWithSegments("/api/runner") ? KaizenAuth.Runner
                            : http.Request.Path.StartsWithSegments(JobTokenAuthentication.PathPrefix) ? JobTokenAuthentication.Scheme
                            : KaizenAuth.ApiToken
                        : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.AccessDeniedPath = PageStatusCodes.ForbiddenPath;
                o.Cookie.Name = SignInCookie.Name;
                o.Cookie.HttpOnly = true;
                // Lax, not Strict: with Strict a browser arriving from another site (the end of the GitHub sign-in, which
                // comes back through a redirect from github.com, or a build link in a commit status or a chat message)
                // comes without the cookie and finds itself signed out. Cross-site changes are refused by origin
                // instead (CrossSiteRequests), which Lax alone would not do for every method anyway.
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.ExpireTimeSpan = TimeSpan.FromDays(14);
                o.SlidingExpiration = true;
                // API callers get status codes, not redirects to the sign-in page.
                o.Events.OnRedirectToLogin = ctx => Challenge(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => Challenge(ctx, StatusCodes.Status403Forbidden);
                // A removed user's cookie stops working, and a changed role counts, on the next request.
                o.Events.OnValidatePrincipal = CookieRevalidation.ValidatePrincipalAsync;
            })
            .AddGitHubSignIn(github)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(KaizenAuth.ApiToken, null)
            .AddScheme<AuthenticationSchemeOptions, RunnerAuthenticationHandler>(KaizenAuth.Runner, null)
            .AddScheme<AuthenticationSchemeOptions, JobTokenAuthenticationHandler>(JobTokenAuthentication.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(KaizenAuth.RunnerPolicy, p => p.AddAuthenticationSchemes(KaizenAuth.Runner).RequireClaim(KaizenAuth.RunnerIdClaim))
            .AddPolicy(JobTokenAuthentication.Policy, p => p.AddAuthenticationSchemes(JobTokenAuthentication.Scheme)
                .RequireClaim(JobTokenAuthentication.JobIdClaim))
            .AddPolicy(ApiEndpoints.WritePolicy, p => p.RequireRole(Roles.Admin, Roles.Member));
        return services;
    }

    private static Task Challenge(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (ctx.Request.Path.StartsWithSegments("/api"))
        {
            ctx.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    public static WebApplication UseKaizenPortal(this WebApplication app)
    {
        // First: everything after it (sign-in throttling, the runners' addresses) sees the client a known proxy forwards.
        var kaizen = app.Services.GetRequiredService<IOptions<KaizenOptions>>().Value;
        app.UseKnownProxies(kaizen.ForwardedHeaders);
        // A limit that does not read stops the portal at start, naming the key, not the first build.
        Kaizen.Portal.Builds.TimeLimits.Defaults(kaizen.Builds);
        if (!app.Environment.IsDevelopment()) app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.UseSecurityHeaders();
        app.UsePortalStatusCodePages();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.UseCrossSiteRequestChecks();
        app.UseStorageFullAnswers();
        app.UseBadRequestDetails();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapStaticAssets();

        app.MapHealth();
        app.MapOpenApi().AllowAnonymous();
        app.MapKaizenApi();
        app.MapJobApi();
        app.MapRefreshApi();
        app.MapPluginApi();
        app.MapSecretsApi();
        app.MapUsersApi();
        app.MapPersonalTokensApi();
        app.MapAuditApi();
        app.MapDeliveryApi();
        app.MapBadges();
        app.MapProjectOptionsApi();
        app.MapGithubWebhooks();
        app.MapSettingsYaml();
        app.MapSemaphoreImport();
        app.MapRunnerProtocol();
        app.MapRunnerAdminApi();
        app.MapArtifacts();
        app.MapCaches();
        app.MapTestReports();
        app.MapScriptsApi();
        app.MapInsightsApi();
        app.MapBuildFilterApi();
        app.MapDebugApi();
        app.MapAccountEndpoints();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    private static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/login", async (HttpContext http, [Microsoft.AspNetCore.Mvc.FromForm] string? username,
            [Microsoft.AspNetCore.Mvc.FromForm] string? password, [Microsoft.AspNetCore.Mvc.FromForm] string? returnUrl,
            UserStore users, IPasswordHasher<UserRow> hasher, SignInThrottle throttle) =>
        {
            var name = username?.Trim() ?? "";
            var address = http.Connection.RemoteIpAddress?.ToString();
            var back = Uri.EscapeDataString(returnUrl ?? "/");
            // Refused before the password is looked at, so guessing on costs nothing but time.
            if (throttle.RetryAfter(name, address) is { } wait)
            {
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Redirect($"/login?error=locked&minutes={Math.Max(1, (int)Math.Ceiling(wait.TotalMinutes))}&returnUrl={back}");
            }
            var user = name.Length == 0 ? null : await users.FindByNameAsync(name);
            var result = user is null || string.IsNullOrEmpty(password)
                ? PasswordVerificationResult.Failed
                : hasher.VerifyHashedPassword(user, user.PasswordHash, password);
            if (result == PasswordVerificationResult.Failed)
            {
                throttle.Failed(name, address);
                return Results.Redirect($"/login?error=password&returnUrl={back}");
            }
            throttle.Succeeded(name, address);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
                UserPrincipal.Create(user!, CookieAuthenticationDefaults.AuthenticationScheme));
            return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl! : "/");
        }).AllowAnonymous().ExcludeFromDescription();

        app.MapGet(GitHubSignIn.StartPath, (string? returnUrl, IOptions<KaizenOptions> options) =>
            options.Value.GitHub.SignInEnabled
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = IsLocal(returnUrl) ? returnUrl : "/" }, [GitHubSignIn.Scheme])
                : Results.NotFound()).AllowAnonymous().ExcludeFromDescription();

        // Linking starts from the user's own page (a form with its antiforgery token) and their own sign-in cookie; the
        // callback checks that the browser coming back from GitHub is still signed in as them.
        app.MapPost(GitHubSignIn.LinkPath, async (HttpContext http, IAntiforgery antiforgery, IOptions<KaizenOptions> options) =>
        {
            if (!options.Value.GitHub.SignInEnabled) return Results.NotFound();
            if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest();
            var session = await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (session.Principal?.UserId() is not { } userId) return Results.LocalRedirect($"/login?returnUrl={Uri.EscapeDataString(GitHubSignIn.AccountPage)}");
            var properties = new AuthenticationProperties { RedirectUri = GitHubSignIn.AccountPage };
            properties.Items[GitHubSignIn.LinkUserItem] = userId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Challenge(properties, [GitHubSignIn.Scheme]);
        }).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

        app.MapPost(GitHubSignIn.UnlinkPath, async (HttpContext http, IAntiforgery antiforgery, UserStore users, AuditLog audit) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest();
            var session = await http.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (session.Principal?.UserId() is not { } userId || await users.FindByIdAsync(userId) is not { } user)
                return Results.LocalRedirect("/login");
            if (user.GithubId is not null && await users.SetGithubAsync(user.Id, null))
                await audit.RecordAsync(user.Name, AuditActions.UserChanged, $"user:{user.Name}", "GitHub account unlinked from their own session");
            return Results.LocalRedirect($"{GitHubSignIn.AccountPage}?unlinked=1");
        }).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

        app.MapPost("/account/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect("/login");
        }).ExcludeFromDescription();
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//") && !url.StartsWith("/\\");
}
