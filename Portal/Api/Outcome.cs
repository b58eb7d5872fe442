namespace Kaizen.Portal.Api;

public enum Problem
{
    Invalid,
    NotFound,
    Conflict,
    Forbidden,
}

/// <summary>What a portal operation produced, or the kind of problem and a message a person can act on.</summary>
public sealed record Outcome<T>(T? Value, Problem? Problem, string? Message)
{
    public bool Ok => Problem is null;

    public static Outcome<T> Of(T value) => new(value, null, null);
    public static Outcome<T> Fail(Problem problem, string message) => new(default, problem, message);

    public IResult ToProblemResult() => Problem switch
    {
        Api.Problem.NotFound => Results.Problem(Message, statusCode: StatusCodes.Status404NotFound),
        Api.Problem.Conflict => Results.Problem(Message, statusCode: StatusCodes.Status409Conflict),
        Api.Problem.Forbidden => Results.Problem(Message, statusCode: StatusCodes.Status403Forbidden),
        _ => Results.Problem(Message, statusCode: StatusCodes.Status400BadRequest),
    };
}
