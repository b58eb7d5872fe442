using Kaizen.Portal.Delivery;

namespace Kaizen.Portal.Tests.Delivery;

public sealed class BranchPatternsTests
{
    [Theory]
    [InlineData("", "anything")]
    [InlineData("  ", "feature/x")]
    [InlineData("develop", "develop")]
    [InlineData("*", "feature/deep/branch")]
    [InlineData("release/*", "release/1.2")]
    [InlineData("release/*", "release/")]
    [InlineData("main, hotfix/*", "main")]
    [InlineData("main, hotfix/*", "hotfix/login")]
    [InlineData("main,hotfix/*", "hotfix/login")]
    [InlineData("feature/*-ui", "feature/cart-ui")]
    [InlineData("*/stable", "v2/stable")]
    [InlineData("re*se/*", "release/1")]
    [InlineData("a**b", "ab")]
    public void A_branch_matches_an_empty_pattern_its_name_or_a_star_pattern_among_commas(string pattern, string branch) =>
        Assert.True(BranchPatterns.Matches(pattern, branch));

    [Theory]
    [InlineData("develop", "develop2")]
    [InlineData("develop", "feature/develop")]
    [InlineData("develop", "Develop")]
    [InlineData("release/*", "release")]
    [InlineData("release/*", "pre-release/1")]
    [InlineData("main, hotfix/*", "feature/main")]
    [InlineData("feature/*-ui", "feature/cart-api")]
    [InlineData("*/stable", "stable")]
    public void A_branch_does_not_match_other_names_or_patterns(string pattern, string branch) =>
        Assert.False(BranchPatterns.Matches(pattern, branch));

    [Theory]
    [InlineData("")]
    [InlineData("develop")]
    [InlineData("main, release/*, hotfix/*")]
    [InlineData("*")]
    [InlineData("feature/*-ui")]
    public void Names_and_star_patterns_separated_by_commas_are_valid(string pattern) =>
        Assert.Null(BranchPatterns.Error(pattern));

    [Theory]
    [InlineData("main,,develop", "The branch pattern has an empty entry between commas.")]
    [InlineData("main,", "The branch pattern has an empty entry between commas.")]
    [InlineData("my branch", "'my branch' cannot be a branch name; use names and '*', separated by commas.")]
    [InlineData("release/v?", "'release/v?' cannot be a branch name")]
    [InlineData("main, feat[12]", "'feat[12]' cannot be a branch name")]
    [InlineData("head~1", "'head~1' cannot be a branch name")]
    [InlineData("a^b", "'a^b' cannot be a branch name")]
    [InlineData("refs:x", "'refs:x' cannot be a branch name")]
    [InlineData("back\\slash", "cannot be a branch name")]
    public void A_pattern_that_cannot_name_branches_is_explained(string pattern, string message) =>
        Assert.Contains(message, BranchPatterns.Error(pattern));

    [Fact]
    public void A_pattern_longer_than_400_characters_is_refused()
    {
        Assert.Null(BranchPatterns.Error(new string('a', 400)));
        Assert.Equal("The branch pattern is at most 400 characters.", BranchPatterns.Error(new string('a', 401)));
    }
}

public sealed class ServerSpecTests
{
    private static ServerSpec Valid => new("staging", ["./deploy.sh"], TriggerMode.Manual, "", 0, Deployers.Members);

    [Fact]
    public void A_manual_or_automatic_server_with_a_name_and_commands_is_valid()
    {
        Assert.Empty(Valid.Validate());
        Assert.Empty((Valid with { TriggerMode = TriggerMode.Automatic, BranchPattern = "develop" }).Validate());
        Assert.Empty((Valid with { Name = "prod-eu_1.a", Approvals = ServerSpec.MaxApprovals, Deployers = Deployers.Admins }).Validate());
        Assert.Empty((Valid with { Name = new string('s', 50), Commands = Enumerable.Repeat("true", ServerSpec.MaxCommands).ToList() }).Validate());
    }

    [Theory]
    [InlineData("")]
    [InlineData("-staging")]
    [InlineData(".hidden")]
    [InlineData("my server")]
    [InlineData("prod/eu")]
    [InlineData("ünicode")]
    public void A_server_name_is_letters_digits_dashes_underscores_and_dots_starting_with_a_letter_or_digit(string name)
    {
        var error = Assert.Single((Valid with { Name = name }).Validate());
        Assert.StartsWith("A server name is 1 to 50 letters", error);
    }

    [Fact]
    public void A_server_name_is_at_most_50_characters() =>
        Assert.Single((Valid with { Name = new string('s', 51) }).Validate());

    [Fact]
    public void A_server_has_from_one_to_200_commands()
    {
        Assert.Equal(["Add at least one deploy command."], (Valid with { Commands = [] }).Validate());
        Assert.Equal(["A server has at most 200 deploy commands."],
            (Valid with { Commands = Enumerable.Repeat("true", ServerSpec.MaxCommands + 1).ToList() }).Validate());
    }

    [Fact]
    public void An_automatic_server_needs_a_branch()
    {
        var error = Assert.Single((Valid with { TriggerMode = TriggerMode.Automatic }).Validate());
        Assert.StartsWith("An automatic server needs the branch whose passed builds it deploys", error);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void Approvals_are_from_0_to_10(int approvals) =>
        Assert.Equal(["Approvals are between 0 and 10."], (Valid with { Approvals = approvals }).Validate());

    [Fact]
    public void The_trigger_mode_and_deployers_are_known_words()
    {
        Assert.Equal(["The trigger mode is 'automatic' or 'manual', not 'nightly'."], (Valid with { TriggerMode = "nightly" }).Validate());
        Assert.Equal(["Who may deploy is 'members' (members and admins) or 'admins', not 'viewers'."],
            (Valid with { Deployers = "viewers" }).Validate());
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var spec = new ServerSpec("", [], "sometimes", "a b", 11, "anyone");

        Assert.Equal(6, spec.Validate().Count);
    }

    [Fact]
    public void Normalizing_trims_names_and_commands_drops_blank_commands_and_lowercases_words()
    {
        var spec = new ServerSpec("  staging ", [" ./deploy.sh ", "   ", ""], " Automatic ", " develop ", 1, " ADMINS ");

        var normalized = spec.Normalized();

        Assert.Equal(("staging", "automatic", "develop", "admins"), (normalized.Name, normalized.TriggerMode, normalized.BranchPattern, normalized.Deployers));
        Assert.Equal(["./deploy.sh"], normalized.Commands);
        Assert.Empty(normalized.Validate());
        Assert.Equal("[\"./deploy.sh\"]", normalized.CommandsJson);
        Assert.Equal(["./deploy.sh"], ServerSpec.ParseCommands(normalized.CommandsJson));
    }
}
