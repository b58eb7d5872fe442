using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Tests.Protocol;

public sealed class PrepareStepsTests
{
    [Fact]
    public void A_job_without_an_image_has_no_prepare_steps() =>
        Assert.Empty(PrepareSteps.For(null, [new ServiceSpec("redis:7", "cache")]));

    [Fact]
    public void Each_image_is_prepared_once_job_image_first_then_the_services_start()
    {
        // Arrange
        ServiceSpec[] services = [new("postgres:16", "db"), new("app:1", "self"), new("postgres:16", "replica")];

        // Act
        var steps = PrepareSteps.For("app:1", services);

        // Assert
        Assert.Equal(
            ["kaizen: prepare image app:1", "kaizen: prepare image postgres:16", "kaizen: start services db, self, replica"],
            steps);
    }

    [Theory]
    [InlineData(CommandPhase.Setup, "kaizen: prepare image app:1", true)]
    [InlineData(CommandPhase.Main, "kaizen: prepare image app:1", false)]
    [InlineData(CommandPhase.Setup, "kaizen cache restore deps lock -- node_modules", false)]
    public void Only_setup_commands_in_the_step_form_are_performed_by_the_runner(CommandPhase phase, string text, bool performed) =>
        Assert.Equal(performed, PrepareSteps.Is(new JobCommand(0, phase, text)));
}
