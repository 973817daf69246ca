namespace Optim4RL.Nn;

/// <summary>
/// Which axes of a gridworld observation the big-gridworld torso's 2×2 convolution slides over.
/// The environments always write observations as [rows, cols, objects + 1] (channels-last);
/// the layout only changes how the network reads them. See <see cref="NetworkSpec"/> for shapes.
/// </summary>
public enum ConvLayout
{
    /// <summary>
    /// The network the paper's results come from (the default). The reference implementation
    /// hands its channels-first [objects + 1, rows, cols] tensor to a channels-last convolution,
    /// so the kernel slides over (object map, row) and reads the columns as input channels.
    /// We permute [H, W, C] to [C, H, W] and convolve the same way.
    /// </summary>
    Reference,

    /// <summary>
    /// The convolution over rows × columns with the object maps as input channels (what a
    /// channels-last image convolution is usually meant to do). Larger dense layer: P ≈ 85–87k.
    /// </summary>
    RowsCols,
}

/// <summary>The configuration names of <see cref="ConvLayout"/> values (<c>agent.conv_layout</c>).</summary>
public static class ConvLayouts
{
    /// <summary>The name of <see cref="ConvLayout.Reference"/>.</summary>
    public const string ReferenceName = "reference";

    /// <summary>The name of <see cref="ConvLayout.RowsCols"/>.</summary>
    public const string RowsColsName = "rows_cols";

    /// <summary>Every valid name, the default first.</summary>
    public static readonly IReadOnlyList<string> Names = [ReferenceName, RowsColsName];

    /// <summary>The configuration name of a layout.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined layout.</exception>
    public static string NameOf(ConvLayout layout) => layout switch
    {
        ConvLayout.Reference => ReferenceName,
        ConvLayout.RowsCols => RowsColsName,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown convolution layout."),
    };

    /// <summary>Parses a configuration name (case-insensitive); false when it is not one of <see cref="Names"/>.</summary>
    public static bool TryParse(string? name, out ConvLayout layout)
    {
        switch (name?.ToLowerInvariant())
        {
            case ReferenceName:
                layout = ConvLayout.Reference;
                return true;
            case RowsColsName:
                layout = ConvLayout.RowsCols;
                return true;
            default:
                layout = ConvLayout.Reference;
                return false;
        }
    }
}
