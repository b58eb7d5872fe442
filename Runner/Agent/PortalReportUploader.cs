using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;

namespace Kaizen.Runner.Agent;

/// <summary>Report files go to the portal over the runner protocol; a refusal becomes a line in the job's log.</summary>
public sealed class PortalReportUploader(PortalClient client) : IReportUploader
{
    public async Task<ReportUploadResponse> UploadAsync(long jobId, ReportSpec spec, string relativePath, Stream? content,
        long sizeBytes, CancellationToken cancellationToken)
    {
        try
        {
            return await client.UploadReportAsync(jobId, spec, relativePath, content, sizeBytes, cancellationToken);
        }
        catch (PortalStatusException ex)
        {
            return new ReportUploadResponse(false, $"not uploaded ({ex.Message})");
        }
    }
}
