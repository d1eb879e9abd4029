# MUTANT: >= instead of >: a tie with the spread counts as clear
def ranking_is_clear(rows):
    """True when the best row's mean exceeds the runner-up's by more than the sum of their standard deviations."""
    ### BEGIN SOLUTION
    best, second = rows[0], rows[1]
    return best["mean"] - second["mean"] >= best["std"] + second["std"]
    ### END SOLUTION
