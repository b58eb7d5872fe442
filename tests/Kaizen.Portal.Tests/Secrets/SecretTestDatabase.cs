using Kaizen.Portal.Audit;
using Kaizen.Portal.Secrets;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.DataProtection;

namespace Kaizen.Portal.Tests.Secrets;

/// <summary>A migrated test database with the variable store, the job environment provider and the audit log over it.</summary>
internal sealed class SecretTestDatabase : IAsyncDisposable
{
    private SecretTestDatabase(TestDatabase test, IDataProtectionProvider protection)
    {
        Test = test;
        Protection = protection;
        Variables = new VariableStore(test.Database, protection, test.Clock);
        Provider = new JobEnvironmentProvider(Variables);
        Audit = new AuditLog(test.Database, test.Clock);
    }

    public TestDatabase Test { get; }
    public IDataProtectionProvider Protection { get; }
    public VariableStore Variables { get; }
    public JobEnvironmentProvider Provider { get; }
    public AuditLog Audit { get; }

    /// <summary>Keys held in memory only: enough for one test, gone with it.</summary>
    public static async Task<SecretTestDatabase> CreateAsync(string provider, IDataProtectionProvider? protection = null) =>
        new(await TestDatabase.CreateAsync(provider), protection ?? new EphemeralDataProtectionProvider());

    public ValueTask DisposeAsync() => Test.DisposeAsync();
}
