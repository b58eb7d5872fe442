using System.Security.Cryptography;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Projects;
using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.GitHub;

/// <summary>
/// Each project's GitHub webhook secret: made when first needed, kept encrypted with Data Protection (like secrets),
/// shown to admins so they can paste it into GitHub, and used to check the signature of every delivery.
/// </summary>
public sealed class WebhookSecrets(ProjectStore projects, IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Kaizen.Webhooks.v1");

    /// <summary>The project's secret, made now if it has none. Null when the stored one cannot be decrypted (its keys are gone).</summary>
    public async Task<string?> GetOrCreateAsync(long projectId, CancellationToken ct = default) =>
        await GetAsync(projectId, ct) ?? (await projects.WebhookSecretAsync(projectId, ct) is null ? await RotateAsync(projectId, ct) : null);

    /// <summary>The project's secret; null when it has none yet or it cannot be decrypted.</summary>
    public async Task<string?> GetAsync(long projectId, CancellationToken ct = default)
    {
        var stored = await projects.WebhookSecretAsync(projectId, ct);
        if (stored is null) return null;
        try
        {
            return _protector.Unprotect(stored);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Replaces the project's secret with a new one (GitHub must be given the new one).</summary>
    public async Task<string> RotateAsync(long projectId, CancellationToken ct = default)
    {
        var secret = Tokens.New("kzw_");
        await projects.SetWebhookSecretAsync(projectId, _protector.Protect(secret), ct);
        return secret;
    }
}
