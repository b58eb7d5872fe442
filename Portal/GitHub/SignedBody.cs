using System.Security.Cryptography;
using System.Text;

namespace Kaizen.Portal.GitHub;

/// <summary>A request body read in full, with which of the offered keys signed it; <see cref="TooLarge"/> when it
/// went past the cap (the rest was not read).</summary>
public sealed record SignedBody<TKey>(byte[] Body, IReadOnlyList<TKey> SignedBy, bool TooLarge);

/// <summary>
/// Reads a body once, feeding each chunk to one HMAC SHA-256 per candidate secret as it arrives, so the signature is
/// known the moment the last byte is in and nothing has looked at the content yet.
/// </summary>
public static class SignedBodyReader
{
    public static async Task<SignedBody<TKey>> ReadAsync<TKey>(Stream body, string signature, IReadOnlyList<(TKey Key, string Secret)> candidates,
        int maxBytes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(candidates);
        var macs = candidates.Select(c => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(c.Secret))).ToList();
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > maxBytes) return new SignedBody<TKey>([], [], TooLarge: true);
                buffer.Write(chunk, 0, read);
                foreach (var mac in macs) mac.AppendData(chunk, 0, read);
            }
            var claimed = Parse(signature);
            var signers = claimed is null
                ? []
                : candidates.Where((_, i) => CryptographicOperations.FixedTimeEquals(macs[i].GetHashAndReset(), claimed)).Select(c => c.Key).ToList();
            return new SignedBody<TKey>(buffer.ToArray(), signers, TooLarge: false);
        }
        finally
        {
            foreach (var mac in macs) mac.Dispose();
        }
    }

    /// <summary>The digest of a <c>sha256=&lt;hex&gt;</c> header; null when it is not one.</summary>
    public static byte[]? Parse(string signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        signature = signature.Trim();
        if (!signature.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) || signature.Length != "sha256=".Length + 64) return null;
        try
        {
            return Convert.FromHexString(signature.AsSpan("sha256=".Length));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
