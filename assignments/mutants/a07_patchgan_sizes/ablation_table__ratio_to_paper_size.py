# MUTANT: the ratio uses the paper's 256 instead of image_size
def ablation_table(scores, receptive_fields, image_size):
    """One row per discriminator, best mean score first.

    scores: {name: [score of seed 0, score of seed 1, ...]} (higher is better, >= 2 seeds each);
    receptive_fields: {name: receptive field in pixels}; image_size: side of the images in pixels.
    Returns a list of dicts with keys "discriminator", "receptive_field", "patch_to_image" (receptive field /
    image side), "mean" and "std" (the sample standard deviation over seeds, ddof = 1).
    """
    ### BEGIN SOLUTION
    rows = []
    for name, values in scores.items():
        values = [float(v) for v in values]
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
        rows.append({"discriminator": name, "receptive_field": receptive_fields[name],
                     "patch_to_image": receptive_fields[name] / 256, "mean": mean, "std": std})
    return sorted(rows, key=lambda r: r["mean"], reverse=True)
    ### END SOLUTION
