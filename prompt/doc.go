// Package prompt is xferterm's TUI: it shows an approval.Question on the user's
// terminal, with Bubble Tea, and reads the answer. Terminal is the approval.Asker that
// cmd wires into the Approver: for each question it borrows the console from the proxy
// (proxy.Console.Borrow), runs Prompt on it, and gives it back.
//
// # Who may answer, and when
//
// The Approver's Run goroutine calls Terminal.Ask, one question at a time; nothing else
// draws a prompt. The question takes the whole screen (the alternate screen, left
// exactly as it was found) and is answered from the keyboard only:
//
//   - keys typed before the console was borrowed go to the child, never to the prompt
//     (proxy.Console.Borrow);
//   - keys typed after, while the prompt is not yet armed, are dropped: it arms once it
//     has been on the screen for ArmDelay with nothing typed meanwhile, and the screen
//     says so, listing the keys only from then on. So a keystroke meant for the remote
//     program's own question, typed as the prompt appears, cannot answer it;
//   - there is no default answer: Enter alone does nothing, and no answer denies after
//     the timeout;
//   - Ctrl+C, like n and Esc, denies: the user sees why it did not reach the program.
//
// The prompt shows what the question holds, and nothing the remote chose without
// escaping it first (termtext): for a read, the number of paths and how many of them
// are sensitive come first, and the sensitive ones lead the list, so that a long list
// cannot push them off the screen; for a sensitive destination, why it is sensitive,
// and how far "allow all" would reach.
//
// The package decides nothing: the Approver composes the policy, and the engine
// applies the answer.
package prompt
