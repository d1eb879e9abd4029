# MUTANT: builds a Conv2d stack and asks course_lib's receptive_field
def receptive_field_of_stack(layers):
    """Receptive field size and jump of the output pixels of a stack of layers.

    Args:
        layers: list of (kernel_size, stride, dilation) tuples, the input side first.

    Returns:
        (size, jump): the side r of the receptive field and the jump J, in input pixels.
    """
    ### BEGIN SOLUTION
    import torch
    from course_lib.receptive_field import receptive_field as reference
    rf = reference(torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, k, stride=s, dilation=d) for k, s, d in layers]))
    return rf.size, rf.stride
    ### END SOLUTION
