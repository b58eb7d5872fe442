using Kaizen.Plugins.Gradle;
using Kaizen.Plugins.Tests.Support;
using Kaizen.Sdk;

namespace Kaizen.Plugins.Tests.Gradle;

public sealed class GradlePluginTests
{
    private const string KotlinBuild = "plugins { kotlin(\"jvm\") version \"1.9.0\" }\n";
    private const string JavaBuild = "apply plugin: 'java'\nrepositories { mavenCentral() }\n";

    private static GradlePlugin Plugin(params (string Key, string Value)[] settings)
    {
        var plugin = new GradlePlugin();
        plugin.Configure(new PluginSettings(settings.ToDictionary(s => s.Key, s => s.Value)));
        return plugin;
    }

    private static (DetectedStack Stack, BuildPlan Plan) PlanOnly(MemoryRepository repo, GradlePlugin? plugin = null)
    {
        plugin ??= Plugin();
        var stack = Assert.Single(plugin.Detect(repo));
        return (stack, plugin.PlanBuild(new BuildPlanContext(repo, stack)));
    }

    [Fact]
    public void A_build_with_the_wrapper_runs_gradlew()
    {
        var repo = new MemoryRepository(("build.gradle", JavaBuild), ("settings.gradle", "rootProject.name = 'app'\n"), ("gradlew", "#!/bin/sh\n"),
            ("gradle/wrapper/gradle-wrapper.properties", "distributionUrl=x\n"));

        var (stack, plan) = PlanOnly(repo);

        Assert.Equal(("gradle", ""), (stack.Stack, stack.Directory));
        Assert.Equal("true", stack.Fact("wrapper"));
        Assert.Equal(["./gradlew test --no-daemon"], Assert.Single(plan.Jobs).Commands);
        Assert.Contains(".gradle-home/wrapper", Assert.Single(plan.Caches).Paths);
    }

    [Fact]
    public void A_build_without_the_wrapper_runs_the_runners_gradle()
    {
        var (stack, plan) = PlanOnly(new MemoryRepository(("build.gradle", JavaBuild)));

        Assert.Equal("false", stack.Fact("wrapper"));
        Assert.Equal("false", stack.Fact("kotlin"));
        Assert.Equal(["gradle test --no-daemon"], Assert.Single(plan.Jobs).Commands);
        Assert.Equal([".gradle-home/caches"], Assert.Single(plan.Caches).Paths);
    }

    [Theory]
    [InlineData("build.gradle.kts", "dependencies { }\n")]
    [InlineData("build.gradle", "apply plugin: 'kotlin'\n")]
    [InlineData("build.gradle", "buildscript { dependencies { classpath 'org.jetbrains.kotlin:kotlin-gradle-plugin:1.3.31' } }\n")]
    [InlineData("build.gradle", "plugins { id 'org.jetbrains.kotlin.jvm' version '1.9.0' }\n")]
    public void Kotlin_script_or_a_kotlin_plugin_makes_a_kotlin_build(string file, string content)
    {
        var stack = Assert.Single(Plugin().Detect(new MemoryRepository((file, content))));

        Assert.Equal("true", stack.Fact("kotlin"));
        Assert.StartsWith("Kotlin Gradle build", stack.Summary);
    }

    [Fact]
    public void Kotlin_sources_make_a_kotlin_build_and_its_jobs_compile_in_process()
    {
        var (stack, plan) = PlanOnly(new MemoryRepository(("build.gradle", "apply plugin: 'application'\n"), ("src/main/kotlin/App.kt", "fun main() {}\n")));

        Assert.Equal("true", stack.Fact("kotlin"));
        Assert.Contains("-Dkotlin.compiler.execution.strategy=in-process", Assert.Single(Assert.Single(plan.Jobs).Commands));
    }

    [Fact]
    public void Sub_projects_of_a_multi_project_build_are_one_stack()
    {
        var repo = new MemoryRepository(
            ("settings.gradle.kts", "include(\"core\", \"cli\")\n"), ("build.gradle.kts", KotlinBuild),
            ("core/build.gradle.kts", KotlinBuild), ("cli/build.gradle.kts", KotlinBuild),
            ("buildSrc/build.gradle.kts", "plugins { `kotlin-dsl` }\n"));

        var (stack, plan) = PlanOnly(repo);

        Assert.Equal("", stack.Directory);
        Assert.Equal("true", stack.Fact("multiProject"));
        Assert.Equal("kotlin", stack.Fact("dsl"));
        Assert.Equal(["build.gradle.kts", "buildSrc/build.gradle.kts", "cli/build.gradle.kts", "core/build.gradle.kts", "settings.gradle.kts"],
            Assert.Single(plan.Caches).KeyFiles);
        Assert.Equal(["build/test-results/test/*.xml", "**/build/test-results/test/*.xml"], plan.Jobs[0].TestReports);
    }

    [Fact]
    public void A_build_in_a_sub_folder_runs_there_and_keeps_its_caches_there()
    {
        var repo = new MemoryRepository(("README.md", "hi"), ("pipeline/jobs/settings.gradle", ""), ("pipeline/jobs/build.gradle", JavaBuild),
            ("pipeline/jobs/gradlew", "#!/bin/sh\n"), ("pipeline/jobs/gradle.properties", "org.gradle.jvmargs=-Xmx1g\n"),
            ("pipeline/jobs/gradle/wrapper/gradle-wrapper.properties", "distributionUrl=x\n"));

        var (stack, plan) = PlanOnly(repo);

        Assert.Equal("pipeline/jobs", stack.Directory);
        Assert.Equal(["(cd pipeline/jobs && ./gradlew test --no-daemon)"], plan.Jobs[0].Commands);
        Assert.Equal(["pipeline/jobs/build/test-results/test/*.xml"], plan.Jobs[0].TestReports);
        Assert.Equal(["export GRADLE_USER_HOME=\"$PWD/pipeline/jobs/.gradle-home\""], plan.Setup);
        var cache = Assert.Single(plan.Caches);
        Assert.Equal("gradle-pipeline-jobs", cache.Name);
        Assert.Equal(["pipeline/jobs/build.gradle", "pipeline/jobs/gradle.properties", "pipeline/jobs/gradle/wrapper/gradle-wrapper.properties",
            "pipeline/jobs/settings.gradle"], cache.KeyFiles);
        Assert.Equal(["pipeline/jobs/.gradle-home/caches", "pipeline/jobs/.gradle-home/wrapper"], cache.Paths);
    }

    [Fact]
    public void Separate_builds_in_sibling_folders_are_separate_stacks()
    {
        var repo = new MemoryRepository(("a/build.gradle", JavaBuild), ("b/settings.gradle.kts", ""), ("b/build.gradle.kts", KotlinBuild),
            ("b/lib/build.gradle.kts", KotlinBuild), ("node_modules/x/build.gradle", JavaBuild));

        var stacks = Plugin().Detect(repo);

        Assert.Equal(["a", "b"], stacks.Select(s => s.Directory));
        Assert.Equal(["false", "true"], stacks.Select(s => s.Fact("kotlin")));
    }

    [Fact]
    public void A_repository_without_gradle_files_has_no_gradle_stack()
    {
        Assert.Empty(Plugin().Detect(new MemoryRepository(("package.json", "{}"), ("src/App.kt", "fun main() {}"), ("gradle.properties", "a=b"))));
    }

    [Fact]
    public void Unreadable_build_files_still_give_a_plan()
    {
        var repo = new MemoryRepository(new Dictionary<string, string>()); // ReadText is null for everything
        var unreadable = new UnreadableRepository(["build.gradle", "settings.gradle", "sub/build.gradle"]);

        var stack = Assert.Single(Plugin().Detect(unreadable));
        var plan = Plugin().PlanBuild(new BuildPlanContext(unreadable, stack));

        Assert.Empty(Plugin().Detect(repo));
        Assert.Equal("false", stack.Fact("kotlin"));
        Assert.Single(plan.Jobs);
    }

    [Fact]
    public void Offline_is_a_setting_that_is_off_by_default()
    {
        var repo = new MemoryRepository(("build.gradle", JavaBuild));

        Assert.DoesNotContain("--offline", PlanOnly(repo).Plan.Jobs[0].Commands[0]);
        Assert.EndsWith("--offline", PlanOnly(repo, Plugin(("offline", "true"))).Plan.Jobs[0].Commands[0]);
        Assert.Throws<ArgumentException>(() => Plugin(("offline", "sometimes")));
    }

    [Fact]
    public void A_verification_plugin_adds_a_check_job_beside_the_tests()
    {
        var (stack, plan) = PlanOnly(new MemoryRepository(("build.gradle", "apply plugin: 'java'\napply plugin: 'checkstyle'\n")));

        Assert.Equal("checkstyle", stack.Fact("verification"));
        Assert.Equal(["test", "check"], plan.Jobs.Select(j => j.Name));
        Assert.Equal(["gradle check -x test --no-daemon"], plan.Jobs[1].Commands);
    }

    [Fact]
    public void Only_a_build_that_publishes_has_deploy_commands()
    {
        var plugin = Plugin();
        var publishing = new MemoryRepository(("build.gradle", "apply plugin: 'java'\napply plugin: 'maven-publish'\n"), ("gradlew", ""));
        var plain = new MemoryRepository(("build.gradle", JavaBuild));

        var deploy = plugin.PlanDeploy(new DeployPlanContext(publishing, Assert.Single(plugin.Detect(publishing)), "production", []));
        var none = plugin.PlanDeploy(new DeployPlanContext(plain, Assert.Single(plugin.Detect(plain)), "production", []));

        Assert.Contains("./gradlew publish --no-daemon", deploy.Commands);
        Assert.Empty(none.Commands);
    }

    [Fact]
    public void Plugin_info_is_filled_in()
    {
        var info = Plugin().Info;

        Assert.Equal("gradle", info.Id);
        Assert.All(new[] { info.Name, info.Version, info.Author, info.Description }, v => Assert.False(string.IsNullOrWhiteSpace(v)));
    }

    /// <summary>Files whose content cannot be read (binary or too large): ReadText gives null.</summary>
    private sealed class UnreadableRepository(IReadOnlyList<string> files) : IRepositoryView
    {
        public string CommitSha => "0000000000000000000000000000000000000000";
        public IReadOnlyList<string> Files => files;
        public bool Exists(string path) => files.Contains(path);
        public string? ReadText(string path) => null;
    }
}
