using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Kaizen.Portal.Tests.Browser;

/// <summary>
/// Waits for the page's address, and only that. Playwright's WaitForURL also waits for the page's load event once the
/// address matches, and on a busy machine the .NET client can miss a load event that arrives as it starts waiting: the
/// page is there, the test times out. What comes next (a locator, an expectation) waits for what it needs itself.
/// </summary>
public static class PageAddress
{
    /// <summary>Until the page's address satisfies <paramref name="matches"/>.</summary>
    public static async Task WaitForAddressAsync(this IPage page, Func<string, bool> matches, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!matches(page.Url))
        {
            if (DateTime.UtcNow > deadline)
                throw new System.TimeoutException($"The page stayed at {page.Url} for {timeoutSeconds} s.");
            await Task.Delay(50);
        }
    }

    /// <summary>Until the page's address matches <paramref name="pattern"/>.</summary>
    public static Task WaitForAddressAsync(this IPage page, Regex pattern, int timeoutSeconds = 60) =>
        page.WaitForAddressAsync(pattern.IsMatch, timeoutSeconds);

    /// <summary>Until the page's address matches the glob <paramref name="glob"/> (<c>**</c> anything, <c>*</c> anything
    /// but <c>/</c>), as Playwright reads one.</summary>
    public static Task WaitForAddressAsync(this IPage page, string glob, int timeoutSeconds = 60) =>
        page.WaitForAddressAsync(Glob(glob), timeoutSeconds);

    /// <summary>Until the page has made no requests for a moment (before measuring or photographing it). The same client
    /// race applies: a quiet moment that came as the wait began is taken as one after a short while.</summary>
    public static async Task SettleAsync(this IPage page)
    {
        try
        {
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 15_000 });
        }
        catch (System.TimeoutException)
        {
        }
    }

    private static Regex Glob(string glob) =>
        new("^" + string.Concat(Regex.Split(glob, @"(\*\*|\*)").Select(part => part switch
        {
            "**" => ".*",
            "*" => "[^/]*",
            _ => Regex.Escape(part),
        })) + "$");
}
